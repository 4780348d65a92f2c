//! Hostile guests (`testdata/hostile/*.wat`): each is refused at load or
//! contained at run time, within bounded time and memory, with a clear error,
//! and every other rule's findings intact.

mod common;

use std::time::{Duration, Instant};

use ml_audit::{Audit, Finding, Input, Inventory, LoadOptions};
use ml_audit_wasm::{CacheMode, HostOptions, Limits, PluginHost, PLUGIN_ERROR};

fn host(limits: Limits) -> PluginHost {
    PluginHost::new(HostOptions {
        limits,
        cache: CacheMode::Off,
        ..HostOptions::default()
    })
    .unwrap()
}

fn inventory() -> Inventory {
    let path = common::root().join("crates/ml-audit-wasm/testdata/mixed.yaml");
    Inventory::new(ml_audit::load(
        &[Input::Path(path)],
        &LoadOptions::default(),
    ))
}

fn load_error(name: &str) -> String {
    match host(Limits::default()).load_bytes(name, &common::hostile(name)) {
        Ok(_) => panic!("{name} was loaded"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_wasi_import_is_refused_and_named() {
    let e = load_error("wasi-import");
    assert!(
        e.contains("`wasi_snapshot_preview1::path_open` (function)") && e.contains("no WASI"),
        "{e}"
    );
}

#[test]
fn an_abi_version_from_the_future_is_refused() {
    let e = load_error("future-abi");
    assert!(
        e.contains("plugin ABI version 99") && e.contains("speaks version 3"),
        "{e}"
    );
}

#[test]
fn duplicate_ids_in_one_plugin_are_refused() {
    let e = load_error("duplicate-ids");
    assert!(e.contains("`hostile-dup` is declared twice"), "{e}");
}

#[test]
fn an_id_of_a_builtin_rule_is_refused() {
    let p = host(Limits::default())
        .load_bytes("builtin-clash", &common::hostile("builtin-clash"))
        .unwrap();
    let e = ml_audit_wasm::register(&mut Audit::new(), &[p])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("`pss-privileged` is already taken by a built-in rule"),
        "{e}"
    );
}

#[test]
fn not_webassembly_is_refused() {
    let e = host(Limits::default())
        .load_bytes("junk.wasm", b"\0asm junk")
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("not a valid WebAssembly module"), "{e}");
}

fn builtin_findings(inv: &Inventory) -> Vec<Finding> {
    Audit::new().run(inv).findings
}

/// Runs the built-in rules plus a hostile guest; checks that the guest gives
/// exactly one `plugin-error` finding mentioning `reason`, in bounded time,
/// and that the built-in findings are the same as without it.
fn contained(name: &str, limits: Limits, reason: &str) {
    contained_as(name, &common::hostile(name), limits, reason);
}

fn contained_as(name: &str, wasm: &[u8], limits: Limits, reason: &str) {
    let inv = inventory();
    let baseline = builtin_findings(&inv);
    assert!(!baseline.is_empty());
    let t = Instant::now();
    let plugin = host(limits)
        .load_bytes(name, wasm)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut audit = Audit::new();
    ml_audit_wasm::register(&mut audit, &[plugin]).unwrap();
    let report = audit.run(&inv);
    let elapsed = t.elapsed();
    let (errors, others): (Vec<Finding>, Vec<Finding>) = report
        .findings
        .into_iter()
        .partition(|f| f.rule == PLUGIN_ERROR);
    assert_eq!(others, baseline, "{name}: other findings changed");
    assert_eq!(errors.len(), 1, "{name}: {errors:#?}");
    let m = &errors[0].message;
    assert!(
        m.contains(&format!("plugin {name}")) && m.contains(reason),
        "{name}: {m}"
    );
    // The first object in inventory order is named, with its place.
    assert_eq!(errors[0].object.name, "root-pod", "{name}");
    assert_eq!(errors[0].span.line, 1, "{name}");
    assert!(elapsed < Duration::from_secs(20), "{name} took {elapsed:?}");
    eprintln!("{name}: contained in {elapsed:?}: {m}");
}

#[test]
fn an_endless_loop_runs_out_of_fuel() {
    contained("endless-loop", Limits::default(), "ran out of fuel");
}

#[test]
fn an_endless_loop_with_unlimited_fuel_hits_the_deadline() {
    let limits = Limits {
        fuel_per_object: u64::MAX / 4,
        deadline: Duration::from_millis(300),
        ..Limits::default()
    };
    contained("endless-loop", limits, "wall-clock deadline (300 ms)");
}

#[test]
fn a_memory_bomb_hits_the_memory_limit() {
    contained("memory-bomb", Limits::default(), "memory limit (64 MiB)");
}

#[test]
fn deep_recursion_traps() {
    contained("deep-recursion", Limits::default(), "trapped");
}

#[test]
fn output_that_is_not_json_is_an_error() {
    contained(
        "invalid-output",
        Limits::default(),
        "malformed output: not JSON",
    );
}

#[test]
fn huge_output_is_refused() {
    contained(
        "huge-output",
        Limits::default(),
        "67108864 bytes of output, over the limit",
    );
}

#[test]
fn output_outside_memory_is_refused() {
    contained(
        "out-of-bounds-output",
        Limits::default(),
        "outside its memory",
    );
}

#[test]
fn a_finding_with_a_bad_pointer_is_refused() {
    contained("bad-finding", Limits::default(), "is not a JSON pointer");
}

#[test]
fn a_truncated_binary_reply_is_an_error() {
    let name = "truncated-binary-output";
    let reason = "malformed output: not a valid reply in the binary encoding";
    contained_as(name, &common::hostile(name), Limits::default(), reason);
}

#[test]
fn a_binary_finding_with_a_bad_pointer_is_refused() {
    let name = "bad-binary-finding";
    let reason = "finding `pointer` \"spec/no-slash\" is not a JSON pointer";
    contained_as(name, &common::hostile(name), Limits::default(), reason);
}

#[test]
fn fuel_trips_the_same_way_every_time() {
    let run = || {
        let plugin = host(Limits::default())
            .load_bytes("endless-loop", &common::hostile("endless-loop"))
            .unwrap();
        let mut audit = Audit::new();
        ml_audit_wasm::register(&mut audit, &[plugin]).unwrap();
        audit.run(&inventory()).findings
    };
    assert_eq!(run(), run());
}

#[test]
fn a_host_stops_its_ticker_when_dropped() {
    for _ in 0..20 {
        drop(host(Limits::default()));
    }
}

#[test]
fn an_older_abi_version_is_refused() {
    let text = std::fs::read_to_string(
        common::root().join("crates/ml-audit-wasm/testdata/hostile/endless-loop.wat"),
    )
    .unwrap()
    .replace("i32.const 3)", "i32.const 1)")
    .replace("\\\"abi\\\":3", "\\\"abi\\\":1");
    let e = host(Limits::default())
        .load_bytes("old-abi", &wat::parse_str(&text).unwrap())
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("plugin ABI version 1") && e.contains("speaks version 3"),
        "{e}"
    );
}

#[test]
fn an_endless_start_function_is_stopped_at_load() {
    let e = load_error("endless-start");
    assert!(
        e.contains("plugin endless-start") && e.contains("cannot start: ran out of fuel"),
        "{e}"
    );
}

#[test]
fn a_memory_bomb_in_the_start_function_is_stopped_at_load() {
    let e = load_error("memory-bomb-start");
    assert!(
        e.contains("cannot start") && e.contains("memory limit (64 MiB)"),
        "{e}"
    );
}

#[test]
fn a_panic_message_reaches_the_finding_without_its_control_characters() {
    contained(
        "panic",
        Limits::default(),
        "trapped: wasm trap: wasm `unreachable` instruction executed; it panicked: no team label on Pod root-pod ]52;c;bad  (at src/lib.rs:12)",
    );
}

/// A module with `n` functions of `body` each, and `locals` locals in the
/// first.
fn module(n: usize, body: &str, locals: usize) -> Vec<u8> {
    let mut wat = String::from("(module ");
    for i in 0..n {
        let l = if i == 0 {
            format!("(local{})", " i32".repeat(locals))
        } else {
            String::new()
        };
        wat += &format!("(func {l} {body})\n");
    }
    wat += ")";
    wat::parse_str(&wat).unwrap()
}

#[test]
fn each_cap_on_loading_is_named() {
    let refused = |limits: Limits, wasm: &[u8]| {
        host(limits)
            .load_bytes("big.wasm", wasm)
            .err()
            .expect("refused")
            .to_string()
    };
    let big = vec![0u8; (8 << 20) + 1];
    let e = refused(Limits::default(), &big);
    assert!(
        e.contains("plugin big.wasm is refused: its module is 8388609 bytes, over the module-size cap (8 MiB)"),
        "{e}"
    );
    let long = "i32.const 1 drop ".repeat(100_000);
    let e = refused(Limits::default(), &module(1, &long, 0));
    assert!(
        e.contains("function 0 has a body of 30000")
            && e.contains("bytes, over the function-size cap (256 KiB)"),
        "{e}"
    );
    let e = refused(Limits::default(), &module(1, &"loop end ".repeat(1001), 0));
    assert!(
        e.contains("function 0 has over 1000 loops, over the function-loops cap"),
        "{e}"
    );
    let deep = format!("{}{}", "block ".repeat(1001), "end ".repeat(1001));
    let e = refused(Limits::default(), &module(1, &deep, 0));
    assert!(
        e.contains("function 0 nests blocks over 1000 deep, over the nesting cap"),
        "{e}"
    );
    let e = refused(
        Limits::default(),
        &module(1, &"block end ".repeat(10_001), 0),
    );
    assert!(
        e.contains("function 0 has over 10000 blocks, loops and ifs, over the function-blocks cap"),
        "{e}"
    );
    let e = refused(Limits::default(), &module(11, &"loop end ".repeat(1000), 0));
    assert!(
        e.contains("it has over 10000 loops, over the module-loops cap"),
        "{e}"
    );
    let e = refused(
        Limits::default(),
        &module(11, &"block end ".repeat(10_000), 0),
    );
    assert!(
        e.contains("it has over 100000 blocks, loops and ifs, over the module-blocks cap"),
        "{e}"
    );
    let e = refused(Limits::default(), &module(1, "", 10_001));
    assert!(
        e.contains("function 0 declares 10001 locals, over the locals cap (10000 per function)"),
        "{e}"
    );
    let e = refused(Limits::default(), &module(50_001, "", 0));
    assert!(
        e.contains("it defines 50001 functions, over the function-count cap (50000)"),
        "{e}"
    );
    let instant = Limits {
        compile_deadline: Duration::ZERO,
        ..Limits::default()
    };
    let e = refused(instant, &common::hostile("endless-loop"));
    assert!(
        e.contains("compiling it took longer than the compile-time cap (0 s)"),
        "{e}"
    );
}

#[test]
fn a_plugin_path_must_be_a_regular_file_and_is_read_up_to_the_cap() {
    let h = host(Limits::default());
    let e = h.load("/dev/zero".as_ref()).err().unwrap().to_string();
    assert!(
        e.contains("plugin /dev/zero is refused: its path is not a regular file"),
        "{e}"
    );
    let d = tempfile::tempdir().unwrap();
    let fifo = d.path().join("plugin.wasm");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if made.is_ok_and(|s| s.success()) {
        let e = h.load(&fifo).err().unwrap().to_string();
        assert!(e.contains("its path is not a regular file"), "{e}");
    } else {
        eprintln!("skipped the FIFO case: mkfifo is not available");
    }
    let e = h.load(d.path()).err().unwrap().to_string();
    assert!(e.contains("its path is a directory"), "{e}");
    let big = d.path().join("big.wasm");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(1 << 30)
        .unwrap();
    let e = h.load(&big).err().unwrap().to_string();
    assert!(
        e.contains("its module is over the module-size cap (8 MiB)"),
        "{e}"
    );
}
