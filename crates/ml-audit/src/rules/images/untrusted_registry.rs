//! Images from registries outside the trusted list.
use crate::rules::prelude::*;
use crate::rules::util::{for_each_image, ImageRef};

declare_rule! {
    id: "image-untrusted-registry", category: "images", severity: Medium, workload: check,
    title: "Images must come from a trusted registry",
    options: [option!(
        "registries",
        StringList,
        "[]",
        "Trusted registry or repository prefixes (`registry.example.com`, `ghcr.io/acme`, `docker.io/library`); with none, the rule reports nothing."
    )],
}

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

/// The option `registries` lists trusted prefixes
/// (`registry.example.com`, `ghcr.io/my-org`, `docker.io/library`); with no
/// list it reports nothing.
fn check(cx: &Context<'_>, w: &Workload, out: &mut Vec<Finding>) {
    let Some(list) = cx.settings.get::<Vec<String>>(&META, "registries") else {
        return;
    };
    if list.is_empty() {
        return;
    }
    for_each_image(cx, w, |c, image, r| {
        if !trusted(r, &list) {
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
    });
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
