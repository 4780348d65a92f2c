//! Images with the `latest` tag or no tag.
use crate::rules::prelude::*;
use crate::rules::util::for_each_image;

declare_rule! {
    id: "image-latest-tag", category: "images", severity: Medium, workload: check,
    title: "Images must name a version tag, not `latest` or none",
}

fn check(cx: &Context<'_>, w: &Workload, out: &mut Vec<Finding>) {
    for_each_image(cx, w, |c, image, r| {
        if r.is_latest() {
            let what = if r.tag.is_some() {
                "the `latest` tag"
            } else {
                "no tag (so `latest`)"
            };
            out.push(
                finding(cx, &META, w, Some(c), &c.pointer.key("image"), format!(
                    "container `{}` uses image `{image}` with {what}: what runs changes whenever the tag is pushed",
                    c.name
                ))
                .help("name an immutable version tag, or better a digest (`image@sha256:...`)"),
            );
        }
    });
}
