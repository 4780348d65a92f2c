//! Single-thread YAML throughput on a directory: the parser's event stream
//! alone, the located tree built on it (`yaml::parse_stream_events`), and
//! `yaml::parse_stream` (the fast parser, falling back to the events).
//! `cargo run --release -p ml-audit --example yaml_speed -- DIR`
fn main() {
    let dir = std::env::args().nth(1).unwrap();
    let mut files = Vec::new();
    for e in ignore::WalkBuilder::new(&dir).build().flatten() {
        if e.path()
            .extension()
            .is_some_and(|x| x == "yaml" || x == "yml")
        {
            files.push(std::fs::read_to_string(e.path()).unwrap());
        }
    }
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
    type Parse = fn(
        &str,
        ml_audit::yaml::Limits,
    ) -> (
        Vec<ml_audit::yaml::Document>,
        Option<ml_audit::yaml::SyntaxError>,
    );
    let parsers: [(&str, Parse); 2] = [
        ("tree on events", ml_audit::yaml::parse_stream_events),
        ("tree, fast parser first", ml_audit::yaml::parse_stream),
    ];
    for (what, parse) in parsers {
        let t = std::time::Instant::now();
        let docs: usize = files
            .iter()
            .map(|f| parse(f, ml_audit::yaml::Limits::default()).0.len())
            .sum();
        let s = t.elapsed().as_secs_f64();
        println!(
            "{docs} docs, {s:.2}s, {:.1} MB/s (1 thread, {what})",
            bytes as f64 / 1e6 / s
        );
    }
}
