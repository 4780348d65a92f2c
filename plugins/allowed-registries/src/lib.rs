//! Images must come from a registry on the allow list given in the rule's
//! settings (`allowed`: registry hosts or host/path prefixes).

use ml_audit_rule_sdk::prelude::*;

const RULE: RuleInfo = RuleInfo {
    id: "image-from-unapproved-registry",
    title: "Container images must come from an approved registry",
    severity: Severity::High,
    kinds: &[],
    reads: &[],
    options: &[OptionInfo {
        name: "allowed",
        ty: OptionType::StringList,
        default: "[]",
        doc: "The approved registries: hosts (`registry.acme.internal`) or host/path \
              prefixes (`ghcr.io/acme`). Empty: the rule reports nothing.",
    }],
    doc: Doc {
        what: "Flags every container (init, app, ephemeral) of every pod template whose image \
               does not come from a registry on the `allowed` list of the rule's settings \
               (a host such as `registry.acme.internal`, or a host/path prefix such as \
               `ghcr.io/acme`). Images without a host come from Docker Hub (`docker.io`). \
               Without settings (or with an empty list) the rule reports nothing.",
        why: "An image from an unvetted registry runs code nobody reviewed, with the pod's \
              service account and GPU; a typo-squatted name is enough to pull it.",
        example:
            "# settings: {\"image-from-unapproved-registry\": {\"allowed\": [\"ghcr.io/acme\"]}}\n\
                  containers:\n- name: trainer\n  image: pytorch/pytorch:2.3.0",
        use_instead: "containers:\n- name: trainer\n  image: ghcr.io/acme/pytorch:2.3.0",
        references: &["https://kubernetes.io/docs/concepts/containers/images/"],
    },
};

/// The registry host and path of an image reference, with Docker Hub's
/// defaults made explicit (`ubuntu` -> `docker.io/library/ubuntu`).
pub fn normalize(image: &str) -> String {
    let name = image.split('@').next().unwrap_or(image);
    let (first, rest) = match name.split_once('/') {
        Some((f, r)) => (f, Some(r)),
        None => (name, None),
    };
    match rest {
        Some(rest) if first.contains('.') || first.contains(':') || first == "localhost" => {
            format!("{first}/{rest}")
        }
        Some(_) => format!("docker.io/{name}"),
        None => format!("docker.io/library/{name}"),
    }
}

/// Whether `image` is under one of the `allowed` prefixes.
pub fn allowed(image: &str, allowed: &[String]) -> bool {
    let full = normalize(image);
    allowed.iter().any(|a| {
        let a = a.trim_end_matches('/');
        full.strip_prefix(a)
            .is_some_and(|rest| rest.starts_with('/') || rest.starts_with(':') || rest.is_empty())
    })
}

fn check(obj: &Object, cx: &Context) -> Vec<Finding> {
    let list = cx.setting::<Vec<String>>("allowed").unwrap_or_default();
    if list.is_empty() {
        return Vec::new();
    }
    obj.containers()
        .filter_map(|c| {
            let image = c.image()?;
            (!allowed(image, &list)).then(|| {
                obj.finding(
                    c.pointer_to("image"),
                    format!(
                        "container `{}` pulls `{image}` from a registry that is not approved",
                        c.name().unwrap_or("?")
                    ),
                )
                .help(format!("use an image from one of: {}", list.join(", ")))
            })
        })
        .collect()
}

export_plugin!("allowed-registries", [object(check, RULE)]);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_hub_defaults() {
        assert_eq!(normalize("ubuntu"), "docker.io/library/ubuntu");
        assert_eq!(
            normalize("rayproject/ray:2.9"),
            "docker.io/rayproject/ray:2.9"
        );
        assert_eq!(normalize("localhost:5000/x"), "localhost:5000/x");
        let list = vec!["ghcr.io/acme".to_string()];
        assert!(allowed("ghcr.io/acme/x:1", &list));
        assert!(!allowed("ghcr.io/acmeevil/x:1", &list));
    }

    #[test]
    fn checks_the_pods_it_is_sent() {
        let obj = RULE.object(json!({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
            "spec": {"template": {"spec": {"containers": [
                {"name": "ok", "image": "ghcr.io/acme/x:1"},
                {"name": "bad", "image": "ubuntu"}
            ]}}}
        }));
        let cx = Context::with_settings(json!({"allowed": ["ghcr.io/acme"]}));
        let found = check(&obj, &cx);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].pointer, "/spec/template/spec/containers/1/image");
        assert!(check(&obj, &Context::default()).is_empty());
    }
}
