fn main() {
    let dir = std::env::args().nth(1).unwrap_or_else(|| "manifests".into());
    let loaded = ml_audit::load(&[ml_audit::Input::Path(dir.into())], &Default::default());
    let inventory = ml_audit::Inventory::new(loaded); // objects, namespaces, workloads
    let report = ml_audit::Audit::new().run(&inventory); // findings, sorted
    for f in &report.findings {
        println!("{}:{}:{} {} {}", f.file, f.span.line, f.span.col, f.rule, f.message);
    }
}
