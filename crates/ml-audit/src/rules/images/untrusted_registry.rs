//! Images from registries outside the trusted list.
use crate::finding::{Finding, Severity};
use crate::rule::{Context, Rule, RuleMeta};
use crate::rule_doc;
use crate::rules::util::{finding, workload_images, ImageRef};
use crate::workload::Workload;

/// Metadata.
pub static META: RuleMeta = RuleMeta::builtin(
    "image-untrusted-registry",
    "images",
    Severity::Medium,
    "Images must come from a trusted registry",
    rule_doc!("image-untrusted-registry"),
);

/// The rule. Its option `registries` lists trusted prefixes
/// (`registry.example.com`, `ghcr.io/my-org`, `docker.io/library`); with no
/// list it reports nothing.
pub struct ImageUntrustedRegistry;

/// Whether `image` (parsed) starts with one of the trusted prefixes.
fn trusted(r: &ImageRef, prefixes: &[String]) -> bool {
    let full = format!("{}/{}", r.registry, r.repository);
    let full = if !r.explicit_registry && !r.repository.contains('/') {
        // `nginx` is `docker.io/library/nginx`.
        format!("docker.io/library/{}", r.repository)
    } else {
        full
    };
    prefixes.iter().any(|p| {
        let p = p.trim().trim_end_matches('/');
        !p.is_empty()
            && (full == p
                || full
                    .strip_prefix(p)
                    .is_some_and(|rest| rest.starts_with('/')))
    })
}

impl Rule for ImageUntrustedRegistry {
    fn meta(&self) -> &RuleMeta {
        &META
    }

    fn check_workload(&self, cx: &Context<'_>, w: &Workload, out: &mut Vec<Finding>) {
        let Some(list) = cx.settings.get::<Vec<String>>(&META.id, "registries") else {
            return;
        };
        if list.is_empty() {
            return;
        }
        let images = workload_images(cx, w);
        for (i, c) in w.containers.iter().enumerate() {
            let Some(image) = images.of(w, i) else {
                continue;
            };
            let Some(r) = ImageRef::parse(image) else {
                continue;
            };
            if !trusted(&r, &list) {
                out.push(
                    finding(
                        cx,
                        &META,
                        w,
                        Some(c),
                        &c.pointer.key("image"),
                        format!(
                            "container `{}` pulls `{image}` from `{}`, which is not a trusted registry",
                            c.name, r.registry
                        ),
                    )
                    .help(format!(
                        "mirror the image into a trusted registry ({})",
                        list.join(", ")
                    )),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes() {
        let l = vec!["ghcr.io/acme".to_string(), "docker.io/library".to_string()];
        assert!(trusted(&ImageRef::parse("nginx:1").unwrap(), &l));
        assert!(trusted(&ImageRef::parse("ghcr.io/acme/x:1").unwrap(), &l));
        assert!(!trusted(&ImageRef::parse("ghcr.io/acmex/x:1").unwrap(), &l));
        assert!(!trusted(&ImageRef::parse("rayproject/ray:1").unwrap(), &l));
    }
}
