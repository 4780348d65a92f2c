//! Images not pinned by digest.
use crate::finding::{Finding, Severity};
use crate::rule::{Context, Rule, RuleMeta};
use crate::rule_doc;
use crate::rules::util::{finding, workload_images, ImageRef};
use crate::workload::Workload;

/// Metadata.
pub static META: RuleMeta = RuleMeta::builtin(
    "image-not-pinned-by-digest",
    "images",
    Severity::Low,
    "Images should be pinned by digest",
    rule_doc!("image-not-pinned-by-digest"),
);

/// The rule.
pub struct ImageNotPinnedByDigest;

impl Rule for ImageNotPinnedByDigest {
    fn meta(&self) -> &RuleMeta {
        &META
    }

    fn check_workload(&self, cx: &Context<'_>, w: &Workload, out: &mut Vec<Finding>) {
        let images = workload_images(cx, w);
        for (i, c) in w.containers.iter().enumerate() {
            let Some(image) = images.of(w, i) else {
                continue;
            };
            let Some(r) = ImageRef::parse(image) else {
                continue;
            };
            // `latest` and untagged images are image-latest-tag's findings.
            if r.digest.is_none() && !r.is_latest() {
                out.push(
                    finding(
                        cx,
                        &META,
                        w,
                        Some(c),
                        &c.pointer.key("image"),
                        format!(
                            "container `{}` uses image `{image}` by tag only: a tag can be moved to other content",
                            c.name
                        ),
                    )
                    .help("pin the image by digest (`repo:tag@sha256:...`); tools such as Renovate keep digests current"),
                );
            }
        }
    }
}
