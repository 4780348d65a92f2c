//! Helpers shared by the workload rules: findings with the workload's
//! context, image references, extended resources.

use std::rc::Rc;

use crate::finding::Finding;
use crate::node::Pointer;
use crate::rule::{Context, RuleMeta};
use crate::secctx::{effective, Effective};
use crate::workload::{ContainerRef, Workload};

/// A finding on a workload (and one of its containers), with the message
/// prefixed by the workload's description and the context set.
pub(crate) fn finding(
    cx: &Context<'_>,
    meta: &RuleMeta,
    w: &Workload,
    c: Option<&ContainerRef>,
    pointer: &Pointer,
    message: impl AsRef<str>,
) -> Finding {
    let obj = cx.inventory.object(w.object);
    // The description is the message's start: one string, not three.
    let message = message.as_ref();
    let described = described(cx, w);
    let mut text = String::with_capacity(described.0.len() + 2 + message.len());
    text.push_str(&described.0);
    text.push_str(": ");
    text.push_str(message);
    cx.finding(meta, obj, pointer, text)
        .context(context_of(w, c.map(|c| c.name.as_str())))
}

/// A workload's description, `Kind ns/name (role)`: see
/// [`Workload::describe`].
pub(crate) struct Described(pub String);

/// The description of `w`, written once for all the findings on it.
pub(crate) fn described(cx: &Context<'_>, w: &Workload) -> Rc<Described> {
    cx.per_workload(w, |w| Described(w.describe(cx.inventory.object(w.object))))
}

/// The effective security context of each of a workload's containers, in
/// the order of `containers`.
pub(crate) struct Effectives(pub Vec<Effective>);

/// The effective security contexts of `w`'s containers, resolved once for
/// every rule that reads them (seven Pod Security controls and two notebook
/// rules).
pub(crate) fn effective_all(cx: &Context<'_>, w: &Workload) -> Rc<Effectives> {
    cx.per_workload(w, |w| {
        Effectives(w.containers.iter().map(|c| effective(w, c)).collect())
    })
}

/// A workload finding's context: the workload's role (`head`, `worker
/// gpu-group`, ...) and the container's name, `head, container ray-head`.
pub(crate) fn context_of(w: &Workload, container: Option<&str>) -> String {
    let mut ctx = w.role.clone();
    if let Some(c) = container {
        if !ctx.is_empty() {
            ctx.push_str(", ");
        }
        ctx.push_str("container ");
        ctx.push_str(c);
    }
    ctx
}

/// A container image reference, split: parts of the text it was read
/// from (every image rule reads every container's image).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ImageRef<'a> {
    /// Registry host (`docker.io` when not written).
    pub registry: &'a str,
    /// Whether the registry was written explicitly.
    pub explicit_registry: bool,
    /// Repository path.
    pub repository: &'a str,
    /// Tag, when written.
    pub tag: Option<&'a str>,
    /// Digest (`sha256:...`), when written.
    pub digest: Option<&'a str>,
}

impl<'a> ImageRef<'a> {
    /// Parses `[registry/]repo[:tag][@digest]`. `None` for empty or templated
    /// values (`{{ .Image }}`, `$(IMAGE)`, `${IMAGE}`) that cannot be judged.
    pub fn parse(image: &'a str) -> Option<ImageRef<'a>> {
        let image = image.trim();
        // Templates (`{{ .Image }}`, `$IMAGE`, `${IMAGE}`) and placeholders
        // (`IMAGE_URL`: references are lowercase) cannot be judged.
        if image.is_empty()
            || image.contains("{{")
            || image.contains('$')
            || image.chars().any(|c| c.is_whitespace())
        {
            return None;
        }
        let (rest, digest) = match image.split_once('@') {
            Some((r, d)) => (r, Some(d)),
            None => (image, None),
        };
        let (registry, explicit, path) = match rest.split_once('/') {
            Some((first, p))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (first, true, p)
            }
            _ => ("docker.io", false, rest),
        };
        let (repository, tag) = match path.rsplit_once(':') {
            Some((r, t)) if !t.contains('/') => (r, Some(t)),
            _ => (path, None),
        };
        if repository.chars().any(|c| c.is_ascii_uppercase()) {
            return None;
        }
        Some(ImageRef {
            registry,
            explicit_registry: explicit,
            repository,
            tag,
            digest,
        })
    }

    /// Whether the tag is `latest` or absent (and there is no digest).
    pub fn is_latest(&self) -> bool {
        self.digest.is_none() && self.tag.is_none_or(|t| t == "latest")
    }

    /// Whether the tag is one that is moved on purpose (`latest`, `main`,
    /// `nightly`, ...), with no digest.
    pub fn is_moving_tag(&self) -> bool {
        if self.digest.is_some() {
            return false;
        }
        let Some(t) = self.tag else {
            return true;
        };
        let t = t.to_ascii_lowercase();
        const MOVING: [&str; 12] = [
            "latest", "main", "master", "nightly", "dev", "develop", "edge", "head", "canary",
            "stable", "snapshot", "unstable",
        ];
        MOVING.contains(&t.as_str())
            || t.ends_with("-nightly")
            || t.ends_with("-snapshot")
            || t.ends_with("-latest")
            || t.ends_with("-dev")
    }
}

/// Extended resources that are accelerators.
pub(crate) fn is_accelerator(resource: &str) -> bool {
    resource.ends_with("/gpu")
        || resource.starts_with("nvidia.com/")
        || resource.starts_with("amd.com/")
        || resource.starts_with("gpu.intel.com/")
        || resource.starts_with("habana.ai/")
        || resource.starts_with("aws.amazon.com/neuron")
        || resource == "google.com/tpu"
}

/// Where to report a resource a container does not set: its
/// `resources.<side>` map (`requests` or `limits`) when it has one, else
/// its `resources` when it has them, else the container.
pub(crate) fn resources_pointer(c: &ContainerRef, side: &str) -> Pointer {
    let res = c.spec.resources.as_ref();
    let has_side = res.is_some_and(|r| match side {
        "limits" => r.limits.is_some(),
        _ => r.requests.is_some(),
    });
    match res {
        Some(_) if has_side => c.pointer.keys(&["resources", side]),
        Some(_) => c.pointer.key("resources"),
        None => c.pointer.clone(),
    }
}

/// Whether a quantity is zero (`0`, `"0"`).
pub(crate) fn is_zero(q: &str) -> bool {
    q.trim().trim_start_matches('0').is_empty() || q.trim().parse::<f64>() == Ok(0.0)
}

/// Whether any container of the workload requests (or limits) an accelerator.
pub(crate) fn requests_accelerator(w: &Workload) -> bool {
    w.containers.iter().any(|c| {
        let r = c.spec.resources.as_ref();
        [
            r.and_then(|r| r.requests.as_ref()),
            r.and_then(|r| r.limits.as_ref()),
        ]
        .into_iter()
        .flatten()
        .flat_map(|m| m.iter())
        .any(|(k, v)| is_accelerator(k) && !is_zero(&v.0))
    })
}

/// Whether the workload is long-running (Deployment, StatefulSet, DaemonSet,
/// ReplicaSet, ReplicationController).
pub(crate) fn is_long_running(kind: &str, group: &str) -> bool {
    (group == "apps"
        && matches!(
            kind,
            "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet"
        ))
        || (group.is_empty() && kind == "ReplicationController")
}

#[cfg(test)]
mod tests {
    use super::ImageRef;

    #[test]
    fn parses_images() {
        let i = ImageRef::parse("rayproject/ray:2.9.0").unwrap();
        assert_eq!(
            (i.registry, i.repository, i.tag),
            ("docker.io", "rayproject/ray", Some("2.9.0"))
        );
        let i = ImageRef::parse("localhost:5000/x").unwrap();
        assert_eq!((i.registry, i.tag), ("localhost:5000", None));
        let i = ImageRef::parse("gcr.io/a/b:1@sha256:abc").unwrap();
        assert!(!i.is_latest() && i.digest.is_some());
        assert!(ImageRef::parse("nginx").unwrap().is_latest());
        assert!(ImageRef::parse("{{.Image}}").is_none());
    }
}

/// A Kustomize `images:` entry: (newName, newTag, digest).
pub(crate) type ImageOverride = (Option<String>, Option<String>, Option<String>);

/// What the Kustomizations in the input change about other files: which
/// files are patches (partial objects merged into a base, so what they do
/// not say is not missing), and which image names get a new tag, name or
/// digest at build time.
#[derive(Debug, Default)]
pub(crate) struct Kustomize {
    /// Normalised paths of patch files.
    pub patches: std::collections::HashSet<String>,
    /// Image name -> (newName, newTag, digest).
    pub images: std::collections::HashMap<String, ImageOverride>,
    /// Whether each file of the inventory (by index) is a patch file:
    /// looked up per workload by several rules, so decided once.
    patch_files: Vec<bool>,
}

/// Lexical path normalisation (`a/b/../c` -> `a/c`), `/` separators.
pub(crate) fn normalize_path(p: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for c in p.split(['/', '\\']) {
        match c {
            "" | "." => {}
            ".." if out.last().is_some_and(|l| *l != "..") => {
                out.pop();
            }
            _ => out.push(c),
        }
    }
    let s = out.join("/");
    if p.starts_with('/') {
        format!("/{s}")
    } else {
        s
    }
}

impl Kustomize {
    /// Reads every Kustomization object of the inventory.
    pub fn build(inv: &crate::inventory::Inventory) -> Kustomize {
        let mut k = Kustomize::default();
        for o in inv.of_kind("Kustomization") {
            if !o.group().starts_with("kustomize.config.k8s.io") {
                continue;
            }
            let file = inv.file_of(o);
            let dir = match file.rfind(['/', '\\']) {
                Some(i) => &file[..i],
                None => ".",
            };
            let mut add = |rel: &str| {
                if !rel.contains('\n') && !rel.trim().is_empty() {
                    k.patches
                        .insert(normalize_path(&format!("{dir}/{}", rel.trim())));
                }
            };
            for p in o.root.field("patchesStrategicMerge").items() {
                if let Some(s) = p.as_str() {
                    add(s);
                }
            }
            for key in ["patches", "patchesJson6902"] {
                for p in o.root.field(key).items() {
                    if let Some(s) = p.field("path").as_str() {
                        add(s);
                    } else if let Some(s) = p.as_str() {
                        add(s);
                    }
                }
            }
            for i in o.root.field("images").items() {
                let Some(name) = i.field("name").as_str() else {
                    continue;
                };
                let s = |f: &str| i.field(f).scalar_text().filter(|v| !v.is_empty());
                k.images
                    .insert(name.to_string(), (s("newName"), s("newTag"), s("digest")));
            }
        }
        if !k.patches.is_empty() {
            k.patch_files = inv
                .files
                .iter()
                .map(|f| k.patches.contains(&normalize_path(&f.path)))
                .collect();
        }
        k
    }

    /// Whether the object comes from a patch file.
    pub fn is_patch(&self, obj: &crate::object::Object) -> bool {
        self.patch_files.get(obj.file).copied().unwrap_or(false)
    }

    /// The image as a Kustomization in the input rewrites it; `None` when
    /// none does.
    pub fn image(&self, image: &str) -> Option<String> {
        if self.images.is_empty() {
            return None;
        }
        let r = ImageRef::parse(image)?;
        let name = if r.explicit_registry {
            format!("{}/{}", r.registry, r.repository)
        } else {
            r.repository.to_string()
        };
        let (new_name, new_tag, digest) = self.images.get(&name)?;
        let mut out = new_name.clone().unwrap_or(name);
        match (new_tag.as_deref().or(r.tag), digest.as_deref().or(r.digest)) {
            (_, Some(d)) if digest.is_some() => out.push_str(&format!("@{d}")),
            (Some(t), d) => {
                out.push_str(&format!(":{t}"));
                if let Some(d) = d {
                    out.push_str(&format!("@{d}"));
                }
            }
            (None, Some(d)) => out.push_str(&format!("@{d}")),
            (None, None) => {}
        }
        Some(out)
    }
}

/// Whether a workload comes from a Kustomize patch file (a partial object:
/// absent fields come from the base it patches).
pub(crate) fn from_patch(cx: &Context<'_>, w: &Workload) -> bool {
    let k = cx.analysis(Kustomize::build);
    k.is_patch(cx.inventory.object(w.object))
}

/// The image a container runs, after Kustomize `images:` rewriting found in
/// the input: the image (borrowed from the container unless rewritten), and
/// whether it was rewritten. `None` for an image that cannot be judged (see
/// [`ImageRef::parse`]); parse the image returned for its parts.
pub(crate) fn container_image<'c>(
    cx: &Context<'_>,
    c: &'c ContainerRef,
) -> Option<(std::borrow::Cow<'c, str>, bool)> {
    let image = c.spec.image.as_deref()?;
    ImageRef::parse(image)?;
    let k = cx.analysis(Kustomize::build);
    let img = match k.image(image) {
        Some(rewritten) => (std::borrow::Cow::Owned(rewritten), true),
        None => (std::borrow::Cow::Borrowed(image), false),
    };
    ImageRef::parse(&img.0)?;
    Some(img)
}

/// The image each of a workload's containers runs (see
/// [`container_image`]), in the order of `containers`: `None` for one that
/// cannot be judged, the rewritten image where Kustomize rewrites it.
pub(crate) struct Images(Vec<Option<Option<String>>>);

impl Images {
    /// The image container `i` of `w` runs, if it can be judged.
    pub(crate) fn of<'a>(&'a self, w: &'a Workload, i: usize) -> Option<&'a str> {
        match self.0.get(i)? {
            None => None,
            Some(Some(rewritten)) => Some(rewritten),
            Some(None) => w.containers.get(i)?.spec.image.as_deref(),
        }
    }
}

/// The images of `w`'s containers, found once for the four image rules
/// (each parsed every image twice and looked up its Kustomize rewrite).
pub(crate) fn workload_images(cx: &Context<'_>, w: &Workload) -> Rc<Images> {
    cx.per_workload(w, |w| {
        Images(
            w.containers
                .iter()
                .map(|c| {
                    container_image(cx, c)
                        .map(|(image, rewritten)| rewritten.then(|| image.into_owned()))
                })
                .collect(),
        )
    })
}

/// Calls `f` for each container of `w` whose image can be judged, with the
/// image it runs (after Kustomize `images:` rewriting) and its parts.
pub(crate) fn for_each_image(
    cx: &Context<'_>,
    w: &Workload,
    mut f: impl FnMut(&ContainerRef, &str, &ImageRef<'_>),
) {
    let images = workload_images(cx, w);
    for (i, c) in w.containers.iter().enumerate() {
        if let Some((image, r)) = images
            .of(w, i)
            .and_then(|image| Some((image, ImageRef::parse(image)?)))
        {
            f(c, image, &r);
        }
    }
}

/// The app containers of a long-running workload: what the probe rules
/// look at. Empty otherwise.
pub(crate) fn long_running_app_containers<'w>(
    cx: &Context<'_>,
    w: &'w Workload,
) -> Vec<&'w ContainerRef> {
    let obj = cx.inventory.object(w.object);
    if !is_long_running(&obj.kind, obj.group()) {
        return Vec::new();
    }
    w.containers_of(crate::workload::ContainerKind::App)
        .collect()
}

/// Reports each of `containers` (of `w`) for which `message` says what is
/// wrong, at the container, with `help`.
pub(crate) fn flag_containers<'w>(
    cx: &Context<'_>,
    meta: &RuleMeta,
    w: &Workload,
    containers: impl IntoIterator<Item = &'w ContainerRef>,
    help: &'static str,
    out: &mut Vec<Finding>,
    message: impl Fn(&ContainerRef) -> Option<String>,
) {
    for c in containers {
        if let Some(m) = message(c) {
            out.push(finding(cx, meta, w, Some(c), &c.pointer, m).help(help));
        }
    }
}
