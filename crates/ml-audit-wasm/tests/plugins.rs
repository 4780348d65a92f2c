//! The example plugins: built for wasm32-unknown-unknown, loaded, and run on
//! their fixtures (`plugins/<name>/testdata/{fail,pass}.yaml`, the lines
//! marked `# expect: <rule-id>`, with `settings.json` as rule options).

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;

use ml_audit::{Audit, Input, Inventory, LoadOptions};
use ml_audit_wasm::{CacheMode, HostOptions, Plugin, PluginHost};

const PLUGINS: [&str; 3] = [
    "allowed-registries",
    "raycluster-team-label",
    "gpu-kueue-queue",
];

fn host() -> &'static PluginHost {
    static HOST: OnceLock<PluginHost> = OnceLock::new();
    HOST.get_or_init(|| {
        PluginHost::new(HostOptions {
            cache: CacheMode::Dir(common::plugin_dir().join("../../cache")),
            ..HostOptions::default()
        })
        .unwrap()
    })
}

fn load(name: &str) -> Plugin {
    host()
        .load(&common::plugin(name))
        .unwrap_or_else(|e| panic!("{e}"))
}

fn inventory(path: &Path) -> Inventory {
    Inventory::new(ml_audit::load(
        &[Input::Path(path.to_path_buf())],
        &LoadOptions::default(),
    ))
}

/// `(line, rule)` of every `# expect: <rule>` marker.
fn expected(path: &Path) -> Vec<(u32, String)> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if let Some((_, ids)) = line.split_once("# expect:") {
            for id in ids.split(',') {
                out.push((i as u32 + 1, id.trim().to_string()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn example_plugins_pass_their_fixtures() {
    for name in PLUGINS {
        let plugin = load(name);
        let ids: Vec<String> = plugin.meta.rules.iter().map(|r| r.id.clone()).collect();
        let dir = common::root().join("plugins").join(name).join("testdata");
        let mut audit = Audit::new();
        ml_audit_wasm::register(&mut audit, std::slice::from_ref(&plugin)).unwrap();
        audit.select(&ids).unwrap();
        if let Ok(text) = std::fs::read_to_string(dir.join("settings.json")) {
            let v: BTreeMap<String, BTreeMap<String, serde_json::Value>> =
                serde_json::from_str(&text).unwrap();
            for (rule, opts) in v {
                for (k, val) in opts {
                    audit.settings.set(&rule, &k, val);
                }
            }
        }
        for fixture in ["fail.yaml", "pass.yaml"] {
            let path = dir.join(fixture);
            let report = audit.run(&inventory(&path));
            let mut got: Vec<(u32, String)> = report
                .findings
                .iter()
                .map(|f| (f.span.line, f.rule.clone()))
                .collect();
            got.sort();
            let want = expected(&path);
            assert_eq!(
                got, want,
                "{name}/{fixture}: findings {:#?}",
                report.findings
            );
            if fixture == "fail.yaml" {
                assert!(!want.is_empty(), "{name}: fail.yaml marks no finding");
            }
        }
    }
}

#[test]
fn plugin_rules_are_listed_explained_and_selected_like_builtin_ones() {
    let plugins: Vec<Plugin> = PLUGINS.iter().map(|n| load(n)).collect();
    let mut audit = Audit::new();
    let builtin = audit.rules().count();
    ml_audit_wasm::register(&mut audit, &plugins).unwrap();
    assert_eq!(audit.rules().count(), builtin + 3);
    let rule = audit.rule("gpu-job-without-kueue-queue").expect("listed");
    let m = rule.meta();
    assert_eq!(m.category, "plugin");
    assert!(m
        .doc
        .starts_with("# gpu-job-without-kueue-queue: GPU jobs must name a Kueue queue\n"));
    let mut at = 0;
    for section in [
        "## What it does",
        "## Why is this bad?",
        "## Example",
        "## Use instead",
        "## References",
    ] {
        let i = m.doc[at..]
            .find(section)
            .unwrap_or_else(|| panic!("{section} missing or out of order:\n{}", m.doc));
        at += i;
    }
    // Selected by category, ignored by id, like any rule.
    audit.select(&["plugin"]).unwrap();
    audit.ignore(&["raycluster-team-label-mismatch"]).unwrap();
    let active: Vec<String> = audit
        .active()
        .iter()
        .map(|r| r.meta().id.to_string())
        .collect();
    assert_eq!(
        active,
        [
            "image-from-unapproved-registry",
            "gpu-job-without-kueue-queue"
        ]
    );
}

#[test]
fn the_same_id_twice_is_refused() {
    let a = load("gpu-kueue-queue");
    let b = load("gpu-kueue-queue");
    let mut audit = Audit::new();
    let e = ml_audit_wasm::register(&mut audit, &[a, b])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("`gpu-job-without-kueue-queue` is also declared by plugin"),
        "{e}"
    );
}

#[test]
fn a_second_load_comes_from_the_disk_cache() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = std::fs::read(common::plugin("allowed-registries")).unwrap();
    let opts = || HostOptions {
        cache: CacheMode::Dir(dir.path().to_path_buf()),
        ..HostOptions::default()
    };
    let first = PluginHost::new(opts())
        .unwrap()
        .load_bytes("a.wasm", &wasm)
        .unwrap();
    assert!(!first.from_cache());
    assert_eq!(first.cache_problem(), None);
    let t = std::time::Instant::now();
    let second = PluginHost::new(opts())
        .unwrap()
        .load_bytes("a.wasm", &wasm)
        .unwrap();
    assert!(second.from_cache());
    eprintln!("cached start-up: {:?}", t.elapsed());
    // A corrupted entry is recompiled, not trusted.
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let p = entry.unwrap().path();
        let mut bytes = std::fs::read(&p).unwrap();
        let n = bytes.len() / 2;
        bytes[n] ^= 0xff;
        std::fs::write(&p, bytes).unwrap();
    }
    let third = PluginHost::new(opts())
        .unwrap()
        .load_bytes("a.wasm", &wasm)
        .unwrap();
    assert!(!third.from_cache());
}

#[test]
fn settings_reach_the_plugin() {
    let plugin = load("allowed-registries");
    let inv = inventory(&common::root().join("crates/ml-audit-wasm/testdata/mixed.yaml"));
    let mut audit = Audit::new();
    ml_audit_wasm::register(&mut audit, &[plugin]).unwrap();
    audit.select(&["image-from-unapproved-registry"]).unwrap();
    // No settings: nothing to enforce.
    assert!(audit.run(&inv).findings.is_empty());
    audit.settings.set(
        "image-from-unapproved-registry",
        "allowed",
        serde_json::json!(["ghcr.io/acme"]),
    );
    let report = audit.run(&inv);
    let images: Vec<&str> = report.findings.iter().map(|f| f.message.as_str()).collect();
    assert_eq!(images.len(), 2, "{images:#?}");
    assert!(images[0].contains("`ubuntu`"));
    assert!(images[1].contains("`rayproject/ray:2.9.0`"));
}

#[test]
fn plugin_rules_carry_their_declared_options() {
    let plugin = load("raycluster-team-label");
    let rules = plugin.rules();
    let meta = ml_audit::Rule::meta(&rules[0]);
    assert_eq!(meta.id, "raycluster-team-label-mismatch");
    let opt = &meta.options[0];
    assert_eq!(
        (opt.name.as_ref(), opt.ty, opt.default.as_ref()),
        ("label", ml_audit::OptionType::String, "team")
    );
    assert!(meta
        .check_option("label", &serde_json::json!("owner"))
        .is_ok());
    let e = meta
        .check_option("lable", &serde_json::json!("x"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("has no option `lable` (its options: label)"),
        "{e}"
    );
    let e = meta
        .check_option("label", &serde_json::json!(42))
        .unwrap_err()
        .to_string();
    assert!(e.contains("takes a string, not 42"), "{e}");
    let gpu = load("gpu-kueue-queue");
    let rules = gpu.rules();
    let opt = &ml_audit::Rule::meta(&rules[0]).options[0];
    assert_eq!(
        (opt.name.as_ref(), opt.ty),
        ("resources", ml_audit::OptionType::StringList)
    );
}

#[test]
fn a_panicking_rule_reports_its_panic_message() {
    let plugin = load("panicking-rule");
    let inv = inventory(&common::root().join("crates/ml-audit-wasm/testdata/mixed.yaml"));
    let mut audit = Audit::new();
    ml_audit_wasm::register(&mut audit, &[plugin]).unwrap();
    audit.select(&["test-panicking-rule"]).unwrap();
    let report = audit.run(&inv);
    assert_eq!(report.findings.len(), 1, "{:#?}", report.findings);
    let m = &report.findings[0].message;
    assert_eq!(report.findings[0].rule, ml_audit_wasm::PLUGIN_ERROR);
    assert!(
        m.contains(
            "trapped: wasm trap: wasm `unreachable` instruction executed; it panicked: no team label on Pod team-a/root-pod (at "
        ) && m.contains("src/lib.rs:"),
        "{m}"
    );
}
