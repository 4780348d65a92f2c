//! Output formats, and what they share: the report, the inventory (for source
//! text), the rules' metadata, and the template each finding came from.
pub mod github;
pub mod junit;
pub mod quote;
pub mod sarif;
pub mod text;

use ml_audit::{Audit, Finding, Inventory, Report, RuleMeta};
use rayon::prelude::*;

/// The repository, for help links.
pub const REPOSITORY: &str = env!("CARGO_PKG_REPOSITORY");

/// The catalogue page of a rule, online.
pub fn help_uri(rule: &str) -> String {
    format!("{REPOSITORY}/blob/main/rules/{rule}.md")
}

/// Everything an output format needs.
pub struct Ctx<'a> {
    /// The report (after baseline filtering).
    pub report: &'a Report,
    /// What was loaded.
    pub inventory: &'a Inventory,
    /// Every rule of the audit, sorted by id.
    pub rules: Vec<RuleMeta>,
    /// Ids of the rules that ran, sorted.
    pub active: Vec<String>,
    /// Per finding: the file it was rendered from (Helm `# Source:`, or
    /// kustomize's `config.kubernetes.io/origin`).
    pub sources: Vec<Option<String>>,
    /// Findings left out by the baseline.
    pub baselined: usize,
    /// Whether text is coloured.
    pub color: bool,
}

impl<'a> Ctx<'a> {
    /// The context of a run.
    pub fn new(
        report: &'a Report,
        inventory: &'a Inventory,
        audit: &Audit,
        baselined: usize,
        color: bool,
    ) -> Ctx<'a> {
        let mut rules: Vec<RuleMeta> = audit.rules().map(|r| r.meta().clone()).collect();
        rules.sort_by(|a, b| a.id.cmp(&b.id));
        let mut active: Vec<String> = audit
            .active()
            .iter()
            .map(|r| r.meta().id.to_string())
            .collect();
        active.sort();
        // Indexes built once: looking files and objects up per finding was
        // quadratic on large repositories. Built on one thread while the
        // others read the Helm comments.
        let indexes = || {
            let by_path: rustc_hash::FxHashMap<&str, usize> = inventory
                .files
                .iter()
                .enumerate()
                .map(|(i, f)| (f.path.as_str(), i))
                .collect();
            let mut objects_of: Vec<Vec<usize>> = vec![Vec::new(); inventory.files.len()];
            for o in &inventory.objects {
                objects_of[o.file].push(o.id);
            }
            (by_path, objects_of)
        };
        // Each rendered Helm file's `# Source:` comments, read once (per
        // finding, reading the file up to its line was quadratic).
        let helm = || -> Vec<Option<HelmSources>> {
            inventory
                .files
                .par_iter()
                .map(|f| {
                    f.text
                        .contains("# Source: ")
                        .then(|| HelmSources::of(&f.text))
                })
                .collect()
        };
        let ((by_path, objects_of), helm) = rayon::join(indexes, helm);
        let sources = report
            .findings
            .par_iter()
            .map(|f| {
                let i = *by_path.get(f.file.as_str())?;
                source_in(inventory, f, helm[i].as_ref(), &objects_of[i])
            })
            .collect();
        Ctx {
            report,
            inventory,
            rules,
            active,
            sources,
            baselined,
            color,
        }
    }
}

/// Where each document of `helm template` output says it came from (the
/// `# Source: chart/templates/x.yaml` comment that opens it): the lines
/// where that changes (a `# Source:` comment, or a `---` that ends
/// it), in order.
struct HelmSources(Vec<(u32, Option<String>)>);

impl HelmSources {
    fn of(text: &str) -> HelmSources {
        let mut changes = Vec::new();
        for (i, l) in text.lines().enumerate() {
            if l.starts_with("---") {
                changes.push((i as u32 + 1, None));
            } else if let Some(s) = l.strip_prefix("# Source: ") {
                changes.push((i as u32 + 1, Some(s.trim().to_string())));
            }
        }
        HelmSources(changes)
    }

    /// The source in effect at `line` (1-based).
    fn at(&self, line: u32) -> Option<&str> {
        let n = self.0.partition_point(|(l, _)| *l <= line);
        n.checked_sub(1).and_then(|i| self.0[i].1.as_deref())
    }
}

/// Where a finding's object was rendered from: a Helm chart template, or the
/// file kustomize names in `config.kubernetes.io/origin`.
fn source_in(
    inv: &Inventory,
    f: &Finding,
    helm: Option<&HelmSources>,
    objects: &[usize],
) -> Option<String> {
    if let Some(s) = helm.and_then(|h| h.at(f.span.line)) {
        return Some(s.to_string());
    }
    let obj = objects
        .iter()
        .map(|id| &inv.objects[*id])
        .find(|o| o.root.span.line <= f.span.line && f.span.line <= o.root.span.end_line)?;
    let origin = obj.annotations.get("config.kubernetes.io/origin")?;
    let path = origin
        .lines()
        .find_map(|l| l.trim().strip_prefix("path:"))
        .map(|p| p.trim().trim_matches(['"', '\'']))?;
    Some(match f.file.strip_prefix("kustomize:") {
        Some(dir) => normalize(&format!("{dir}/{path}")),
        None => path.to_string(),
    })
}

/// `a/b/../c` to `a/c`, lexically.
fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for p in path.split('/') {
        match p {
            "." | "" if !parts.is_empty() => {}
            ".." if parts.last().is_some_and(|l| *l != "..") => {
                parts.pop();
            }
            _ => parts.push(p),
        }
    }
    parts.join("/")
}

/// The JSON report, with each finding's `source` when it has one.
///
/// Findings are written one at a time into the pretty-printed document (a
/// `serde_json::Value` of the whole report costs several times the output's
/// size: 1 GB and more for 200,000 findings); the bytes are those of
/// pretty-printing the whole value.
pub fn json_to(ctx: &Ctx<'_>, w: &mut impl std::io::Write) -> std::io::Result<()> {
    let mut v = serde_json::json!({
        "schemaVersion": ml_audit::JSON_SCHEMA_VERSION,
        "tool": {"name": "ml-audit", "version": env!("CARGO_PKG_VERSION")},
        "summary": ctx.report.summary,
        "findings": [],
        "diagnostics": ctx.report.diagnostics,
    });
    v["summary"]["baselined"] = ctx.baselined.into();
    // What the input deploys, when it holds kustomizations: each unit's
    // path, kind and role (findings name their units by path).
    if !ctx.inventory.units.is_empty() {
        v["units"] = ctx
            .inventory
            .units
            .iter()
            .map(|u| serde_json::json!({"path": u.path, "kind": u.kind, "role": u.role}))
            .collect();
    }
    stream_items_into(
        &v,
        "\n  \"findings\": []",
        ctx.report.findings.len(),
        w,
        |i, out, level| {
            ml_audit::FindingJson {
                finding: &ctx.report.findings[i],
                source: ctx.sources.get(i).and_then(|s| s.as_deref()),
            }
            .write_pretty(out, level)
        },
    )
}

/// Writes `doc` pretty-printed, with `n` items streamed into the empty
/// array that `hole` (the array's line, from its newline to `[]`) marks:
/// the bytes are those of pretty-printing the whole document, but only a
/// batch of items exists at a time, rendered in parallel. `write(i, out,
/// level)` appends item `i` pretty-printed, its lines after the first
/// indented `level` levels (two spaces each) deeper.
pub fn stream_items_into(
    doc: &serde_json::Value,
    hole: &str,
    n: usize,
    w: &mut impl std::io::Write,
    write: impl Fn(usize, &mut Vec<u8>, usize) + Sync,
) -> std::io::Result<()> {
    let text = serde_json::to_string_pretty(doc).unwrap_or_default();
    let Some(at) = text.find(hole).filter(|_| n > 0) else {
        w.write_all(text.as_bytes())?;
        return w.write_all(b"\n");
    };
    let (head, tail) = text.split_at(at + hole.len() - 1);
    // The array's own indentation, and its items' one level deeper.
    let outer = &hole[1..hole.len() - hole.trim_start().len()];
    let inner = format!("\n{outer}  ");
    let level = outer.len() / 2 + 1;
    w.write_all(head.as_bytes())?;
    let render = |i: usize, out: &mut Vec<u8>| {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(inner.as_bytes());
        write(i, out, level);
    };
    const BATCH: usize = 16_384;
    const PIECE: usize = 512;
    // One buffer per piece, kept from batch to batch: fresh ones were grown
    // by doubling (copying) and faulted in again for every batch.
    let mut buffers: Vec<Vec<u8>> = vec![Vec::new(); BATCH.div_ceil(PIECE).min(n.div_ceil(PIECE))];
    for start in (0..n).step_by(BATCH) {
        let end = (start + BATCH).min(n);
        buffers.par_iter_mut().enumerate().for_each(|(k, out)| {
            out.clear();
            let p = start + k * PIECE;
            for i in p..(p + PIECE).min(end) {
                render(i, out);
            }
        });
        for b in &buffers {
            w.write_all(b)?;
        }
    }
    w.write_all(b"\n")?;
    w.write_all(outer.as_bytes())?;
    w.write_all(tail.as_bytes())?;
    w.write_all(b"\n")
}

/// `Kind namespace/name` of a finding's object.
pub fn object_name(f: &Finding) -> String {
    match &f.object.namespace {
        Some(ns) => format!("{} {}/{}", f.object.kind, ns, f.object.name),
        None => format!("{} {}", f.object.kind, f.object.name),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn helm_source_is_the_documents_comment() {
        let t = "---\n# Source: c/templates/a.yaml\nkind: A\n---\n# Source: c/templates/b.yaml\nkind: B\n---\nkind: C\n";
        assert_eq!(super::HelmSources::of(t).at(3), Some("c/templates/a.yaml"));
        assert_eq!(super::HelmSources::of(t).at(6), Some("c/templates/b.yaml"));
        assert_eq!(super::HelmSources::of(t).at(8), None);
        // The `---` ends a document's source; its comment starts one.
        let h = super::HelmSources::of(t);
        assert_eq!(h.at(0), None);
        assert_eq!(h.at(1), None);
        assert_eq!(h.at(2), Some("c/templates/a.yaml"));
        assert_eq!(h.at(4), None);
        assert_eq!(h.at(5), Some("c/templates/b.yaml"));
    }
}
