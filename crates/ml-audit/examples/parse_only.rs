//! Loads inputs and prints counts: a profiling target for the loader.
//! `cargo run --release -p ml-audit --example parse_only -- DIR`
fn main() {
    let dir = std::env::args().nth(1).unwrap_or_else(|| ".".into());
    let full = std::env::args().nth(2).is_some();
    let loaded = ml_audit::load(
        &[ml_audit::Input::Path(dir.into())],
        &ml_audit::LoadOptions::default(),
    );
    let bytes: usize = loaded.files.iter().map(|f| f.text.len()).sum();
    let objects = loaded.objects.len();
    if full {
        let inv = ml_audit::Inventory::new(loaded);
        let r = ml_audit::Audit::new().run(&inv);
        println!(
            "{objects} objects, {bytes} bytes, {} findings",
            r.findings.len()
        );
    } else {
        println!("{objects} objects, {bytes} bytes");
    }
}
