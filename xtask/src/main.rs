//! `cargo xtask new-rule ID CATEGORY`: writes a new built-in rule (its
//! file, its catalogue page and its fixture pair) and registers it, so that
//! `cargo test -p ml-audit --test rules` points at what is left to write.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["new-rule", id, category] => match new_rule(&root, id, category) {
            Ok(written) => {
                for p in written {
                    println!("wrote {}", p.display());
                }
                println!("next: fill in the TODOs, then `cargo test -p ml-audit --test rules` (UPDATE_SNAPSHOTS=1 writes fail.snap)");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(2)
            }
        },
        _ => {
            eprintln!("usage: cargo xtask new-rule RULE-ID CATEGORY-FOLDER (for example: cargo xtask new-rule image-from-http images)");
            ExitCode::from(2)
        }
    }
}

/// Writes rule `id` into the category folder `category` of the repository
/// at `root` and registers it; returns the files written or changed.
fn new_rule(root: &Path, id: &str, category: &str) -> Result<Vec<PathBuf>, String> {
    let valid_id = !id.is_empty()
        && id.split('-').all(|w| {
            !w.is_empty()
                && w.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        });
    if !valid_id {
        return Err(format!(
            "`{id}`: a rule id is lowercase words joined by `-` (`image-from-http`)"
        ));
    }
    let rules = root.join("crates/ml-audit/src/rules");
    let folder = rules.join(category);
    let module = folder.join("mod.rs");
    let Ok(module_text) = std::fs::read_to_string(&module) else {
        return Err(format!(
            "`{category}`: no category folder {} (one of the folders under {})",
            folder.display(),
            rules.display()
        ));
    };
    let file = id.replace('-', "_");
    let rule_file = folder.join(format!("{file}.rs"));
    let page = root.join(format!("crates/ml-audit/rules/{id}.md"));
    let fixtures = root.join(format!("testdata/rules/{id}"));
    for p in [&rule_file, &page, &fixtures] {
        if p.exists() {
            return Err(format!("{} exists already", p.display()));
        }
    }
    let category_name = category_name(&folder)?;
    let registry_path = rules.join("mod.rs");
    let registry = std::fs::read_to_string(&registry_path)
        .map_err(|e| format!("cannot read {}: {e}", registry_path.display()))?;

    let registry = register(&registry, category, &file)?;
    let module_text = add_module(&module_text, &file);
    std::fs::write(&rule_file, rule_source(id, &category_name))
        .map_err(|e| format!("cannot write {}: {e}", rule_file.display()))?;
    std::fs::write(&page, page_text(id))
        .map_err(|e| format!("cannot write {}: {e}", page.display()))?;
    std::fs::create_dir_all(&fixtures)
        .map_err(|e| format!("cannot create {}: {e}", fixtures.display()))?;
    let (fail, pass) = (fixtures.join("fail.yaml"), fixtures.join("pass.yaml"));
    std::fs::write(&fail, fixture(id, true)).map_err(|e| e.to_string())?;
    std::fs::write(&pass, fixture(id, false)).map_err(|e| e.to_string())?;
    std::fs::write(&module, module_text).map_err(|e| e.to_string())?;
    std::fs::write(&registry_path, registry).map_err(|e| e.to_string())?;
    Ok(vec![rule_file, page, fail, pass, module, registry_path])
}

/// The category the rules of a folder declare (`category: "images"`).
fn category_name(folder: &Path) -> Result<String, String> {
    let entries = std::fs::read_dir(folder).map_err(|e| e.to_string())?;
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        let text = std::fs::read_to_string(&p).unwrap_or_default();
        if let Some((_, rest)) = text.split_once("category: \"") {
            if let Some((name, _)) = rest.split_once('"') {
                return Ok(name.to_string());
            }
        }
    }
    Err(format!(
        "no rule in {} declares its category",
        folder.display()
    ))
}

/// The registry with `&category::file::RULE` added after the category's
/// last rule (or at the end).
fn register(registry: &str, category: &str, file: &str) -> Result<String, String> {
    let start = registry
        .find("static REGISTRY: &[&Builtin] = &[\n")
        .ok_or("no `static REGISTRY` list in rules/mod.rs")?;
    let end = start
        + registry[start..]
            .find("\n];")
            .ok_or("the registry list does not end")?;
    let prefix = format!("    &{category}::");
    let at = registry[start..end]
        .rfind(&prefix)
        .map(|i| start + i + registry[start + i..].find('\n').unwrap_or(0))
        .unwrap_or(end);
    Ok(format!(
        "{}\n    &{category}::{file}::RULE,{}",
        &registry[..at],
        &registry[at..]
    ))
}

/// The category module with `pub(super) mod file;` (seen by the registry)
/// among its other module lines, in order.
fn add_module(text: &str, file: &str) -> String {
    let line = format!("pub(super) mod {file};");
    let name = |l: &str| l.rsplit(' ').next().unwrap_or("").to_string();
    let mut lines: Vec<&str> = text.lines().collect();
    let mods: Vec<usize> = (0..lines.len())
        .filter(|i| lines[*i].contains("mod ") && lines[*i].ends_with(';'))
        .collect();
    let at = mods
        .iter()
        .find(|i| name(lines[**i]) > name(&line))
        .copied()
        .unwrap_or_else(|| mods.last().map_or(lines.len(), |i| i + 1));
    lines.insert(at, &line);
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

fn rule_source(id: &str, category: &str) -> String {
    format!(
        r#"//! TODO: what the rule flags, in one line.
use crate::rules::prelude::*;

declare_rule! {{
    id: "{id}", category: "{category}", severity: Medium, workload: check,
    title: "TODO: what must hold, in one line",
}}

fn check(cx: &Context<'_>, w: &Workload, out: &mut Vec<Finding>) {{
    for c in &w.containers {{
        // TODO: the condition, and the narrowest pointer (the field to change).
        let flagged = c.spec.image.is_none();
        if flagged {{
            out.push(
                finding(cx, &META, w, Some(c), &c.pointer, format!("container `{{}}` TODO: what is wrong and what it causes", c.name))
                    .help("TODO: what to write instead"),
            );
        }}
    }}
}}
"#
    )
}

/// The sections every catalogue page has, in this order.
const SECTIONS: [&str; 5] = [
    "## What it does",
    "## Why is this bad?",
    "## Example",
    "## Use instead",
    "## References",
];

fn page_text(id: &str) -> String {
    format!(
        "# {id}: TODO: what must hold, in one line\n\n{}\nTODO: what the rule flags, and where it points.\n\n{}\nTODO: what goes wrong in a cluster.\n\n{}\n```yaml\nTODO: a manifest the rule flags\n```\n\n{}\n```yaml\nTODO: the same manifest, fixed\n```\n\n{}\n- TODO: the upstream documentation\n",
        SECTIONS[0], SECTIONS[1], SECTIONS[2], SECTIONS[3], SECTIONS[4]
    )
}

fn fixture(id: &str, fail: bool) -> String {
    let image = if fail {
        format!("  - name: main  # expect: {id}\n")
    } else {
        "  - name: main\n    image: registry.example.com/ml/trainer:1.0\n".to_string()
    };
    format!("# TODO: the smallest manifest that {} the rule.\napiVersion: v1\nkind: Pod\nmetadata: {{name: p, namespace: ml}}\nspec:\n  containers:\n{image}", if fail { "breaks" } else { "keeps" })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Scaffolds a rule into a copy of the parts of the repository it
    /// changes: every file is written, the page has every section, the rule
    /// is registered once, and a second run refuses to overwrite it.
    #[test]
    fn new_rule_writes_and_registers_everything() {
        let real = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let rules = root.join("crates/ml-audit/src/rules");
        std::fs::create_dir_all(rules.join("images")).unwrap();
        std::fs::create_dir_all(root.join("crates/ml-audit/rules")).unwrap();
        std::fs::create_dir_all(root.join("testdata/rules")).unwrap();
        for f in ["mod.rs", "images/mod.rs", "images/latest_tag.rs"] {
            std::fs::copy(
                real.join("crates/ml-audit/src/rules").join(f),
                rules.join(f),
            )
            .unwrap();
        }
        let written = new_rule(root, "image-from-http", "images").unwrap();
        assert_eq!(written.len(), 6);
        let src = std::fs::read_to_string(rules.join("images/image_from_http.rs")).unwrap();
        assert!(
            src.contains("id: \"image-from-http\", category: \"images\""),
            "{src}"
        );
        let page =
            std::fs::read_to_string(root.join("crates/ml-audit/rules/image-from-http.md")).unwrap();
        assert!(page.starts_with("# image-from-http: "));
        let mut last = 0;
        for s in SECTIONS {
            let at = page.find(s).unwrap_or_else(|| panic!("page lacks {s}"));
            assert!(at >= last, "{s} out of order");
            last = at;
        }
        let fail =
            std::fs::read_to_string(root.join("testdata/rules/image-from-http/fail.yaml")).unwrap();
        assert!(fail.contains("# expect: image-from-http"));
        assert!(root
            .join("testdata/rules/image-from-http/pass.yaml")
            .is_file());
        let module = std::fs::read_to_string(rules.join("images/mod.rs")).unwrap();
        assert_eq!(
            module.matches("pub(super) mod image_from_http;").count(),
            1,
            "{module}"
        );
        let registry = std::fs::read_to_string(rules.join("mod.rs")).unwrap();
        assert_eq!(
            registry.matches("&images::image_from_http::RULE,").count(),
            1
        );
        // Next to the other image rules, inside the list.
        let at = registry.find("&images::image_from_http::RULE").unwrap();
        assert!(registry[..at].contains("&images::untrusted_registry::RULE"));
        assert!(registry[at..].contains("&secrets::"));
        assert!(new_rule(root, "image-from-http", "images").is_err());
        assert!(new_rule(root, "Bad_Id", "images").is_err());
        assert!(new_rule(root, "x", "no-such-folder").is_err());
    }
}
