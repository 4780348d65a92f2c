//! Images with the `latest` tag or no tag.
use crate::finding::{Finding, Severity};
use crate::rule::{Context, Rule, RuleMeta};
use crate::rule_doc;
use crate::rules::util::{finding, workload_images, ImageRef};
use crate::workload::Workload;

/// Metadata.
pub static META: RuleMeta = RuleMeta::builtin(
    "image-latest-tag",
    "images",
    Severity::Medium,
    "Images must name a version tag, not `latest` or none",
    rule_doc!("image-latest-tag"),
);

/// The rule.
pub struct ImageLatestTag;

impl Rule for ImageLatestTag {
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
        }
    }
}
