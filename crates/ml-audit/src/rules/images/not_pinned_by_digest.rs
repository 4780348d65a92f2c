//! Images not pinned by digest.
use crate::rules::prelude::*;
use crate::rules::util::for_each_image;

declare_rule! {
    id: "image-not-pinned-by-digest", category: "images", severity: Low, workload: check,
    title: "Images should be pinned by digest",
}

fn check(cx: &Context<'_>, w: &Workload, out: &mut Vec<Finding>) {
    for_each_image(cx, w, |c, image, r| {
        // `latest` and untagged images are image-latest-tag's findings.
        if r.digest.is_none() && !r.is_latest() {
            out.push(
                finding(cx, &META, w, Some(c), &c.pointer.key("image"), format!(
                    "container `{}` uses image `{image}` by tag only: a tag can be moved to other content",
                    c.name
                ))
                .help("pin the image by digest (`repo:tag@sha256:...`); tools such as Renovate keep digests current"),
            );
        }
    });
}
