//! Which YAML files the fast parser leaves to the event parser, and where
//! it stopped in each: `cargo run -p ml-audit --example yaml_refused -- DIR`.
fn main() {
    let dir = std::env::args().nth(1).expect("usage: yaml_refused DIR");
    let lim = ml_audit::yaml::Limits::default();
    let (mut files, mut bytes, mut left, mut left_bytes) = (0, 0, 0, 0);
    for (p, text) in ml_audit::yaml::yaml_texts(std::path::Path::new(&dir)) {
        files += 1;
        bytes += text.len();
        if let Some((line, col)) = ml_audit::yaml::fast_parser_stop(&text, lim) {
            left += 1;
            left_bytes += text.len();
            let shown = text.lines().nth(line.max(1) as usize - 1).unwrap_or("");
            println!("{}:{line}:{col}: {}", p.display(), shown.trim());
        }
    }
    println!("left to the event parser: {left} of {files} files, {left_bytes} of {bytes} bytes");
}
