//! `imagePullPolicy: IfNotPresent`/`Never` with a mutable tag.
use crate::rules::prelude::*;
use crate::rules::util::{workload_images, ImageRef};

declare_rule! {
    id: "mutable-tag-pull-policy", category: "hygiene", severity: Low, workload: check,
    title: "Images with a moving tag must be pulled with `imagePullPolicy: Always`",
}

fn check(cx: &Context<'_>, w: &Workload, out: &mut Vec<Finding>) {
    // Found only for a workload that has a container to judge.
    let mut images = None;
    for (i, c) in w.containers.iter().enumerate() {
        let Some(policy) = c.spec.image_pull_policy.as_deref() else {
            continue;
        };
        if !matches!(policy, "IfNotPresent" | "Never") {
            continue;
        }
        let images = images.get_or_insert_with(|| workload_images(cx, w));
        let Some(image) = images.of(w, i) else {
            continue;
        };
        let Some(r) = ImageRef::parse(image) else {
            continue;
        };
        if r.is_moving_tag() {
            out.push(
                finding(cx, &META, w, Some(c), &c.pointer.key("imagePullPolicy"), format!(
                    "container `{}` pulls `{image}`, a moving tag, with `imagePullPolicy: {policy}`: each node keeps running whatever version it cached first",
                    c.name
                ))
                .help("pin a version tag or digest, or set `imagePullPolicy: Always`"),
            );
        }
    }
}
