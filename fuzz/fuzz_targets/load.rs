//! Bytes -> objects with locations: never a panic, and every object and
//! diagnostic points inside the input.
#![no_main]
use libfuzzer_sys::fuzz_target;
use ml_audit::{load, Input, LoadOptions};

fuzz_target!(|data: &[u8]| {
    let text = match ml_audit::decode("fuzz.yaml", data.to_vec()) {
        Ok(t) => t,
        Err(_) => return,
    };
    let lines = text.lines().count() as u32 + 2;
    let loaded = load(&[Input::Text { name: "fuzz.yaml".into(), text: text.clone() }], &LoadOptions::default());
    for o in &loaded.objects {
        assert!(o.root.span.line <= lines);
        let _ = o.root.to_json();
    }
    for d in &loaded.diagnostics {
        assert!(d.line <= lines, "{d:?}");
    }
});
