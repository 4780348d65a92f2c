//! Single-thread YAML throughput on a directory: the parser's event stream
//! alone, the located tree built on it (`yaml::parse_stream_events`), and
//! `yaml::parse_stream` (the fast parser, falling back to the events).
//! `cargo run --release -p ml-audit --example yaml_speed -- DIR`
fn main() {
    let dir = std::env::args().nth(1).unwrap();
    let files: Vec<String> = ml_audit::yaml::yaml_texts(std::path::Path::new(&dir))
        .into_iter()
        .map(|(_, text)| text)
        .collect();
    let bytes: usize = files.iter().map(|f| f.len()).sum();
    let t = std::time::Instant::now();
    let mut n = 0usize;
    for f in &files {
        let mut p = saphyr_parser::Parser::new_from_str(f);
        while let Some(Ok(_ev)) = p.next_event() {
            n += 1;
        }
    }
    let s = t.elapsed().as_secs_f64();
    println!(
        "{n} events, {bytes} bytes, {s:.2}s, {:.1} MB/s (1 thread, events only)",
        bytes as f64 / 1e6 / s
    );
    for (what, parse) in ml_audit::yaml::PARSERS {
        let t = std::time::Instant::now();
        let docs: usize = files
            .iter()
            .map(|f| parse(f, ml_audit::yaml::Limits::default()).0.len())
            .sum();
        let s = t.elapsed().as_secs_f64();
        println!(
            "{docs} docs, {s:.2}s, {:.1} MB/s (1 thread, tree, {what})",
            bytes as f64 / 1e6 / s
        );
    }
}
