//! A tool author's starting point: audit a directory, list every pod
//! template found (ML CRDs included), and print the findings.
//!
//! `cargo run -p ml-audit --example audit_dir -- testdata/examples`

use ml_audit::{Audit, Input, Inventory, LoadOptions, Severity};

fn main() {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "testdata/examples".into());

    // 1. Load: files and directories, with a location on every node.
    let loaded = ml_audit::load(&[Input::Path(dir.into())], &LoadOptions::default());

    // 2. Index: objects, namespaces, and one Workload per pod template.
    let inventory = Inventory::new(loaded);
    for w in &inventory.workloads {
        let obj = inventory.object(w.object);
        println!(
            "workload: {} x{} (max {}), containers: {:?}",
            w.describe(obj),
            w.replicas,
            w.max_replicas,
            w.containers
                .iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>()
        );
    }

    // 3. Audit with the built-in rules (select a subset with `audit.select`).
    let audit = Audit::new();
    let report = audit.run(&inventory);

    // 4. Use the findings: each has a rule, a severity, a file:line:col.
    for d in &report.diagnostics {
        eprintln!("input problem: {}:{}: {}", d.file, d.line, d.message);
    }
    for f in report
        .findings
        .iter()
        .filter(|f| f.severity >= Severity::High)
    {
        println!(
            "{}:{}:{}: [{}] {}: {}",
            f.file, f.span.line, f.span.col, f.severity, f.rule, f.message
        );
    }
}
