//! `.ml-audit.yaml`: both phases of the config reader on any text. Never a
//! panic, and every error points inside the file.
#![no_main]
use libfuzzer_sys::fuzz_target;
use ml_audit::config::Config;
use ml_audit::Audit;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Lines as YAML counts them: a lone `\r` breaks a line too.
    let lines = text
        .replace("\r\n", "\n")
        .replace('\r', "\n")
        .lines()
        .count() as u32
        + 2;
    let check = |errors: &[ml_audit::config::ConfigError]| {
        for e in errors {
            assert!(e.line <= lines, "{e:?} beyond {lines} lines");
        }
    };
    match Config::parse(".ml-audit.yaml", text) {
        Err(e) => {
            assert!(!e.config_errors().is_empty(), "{e}");
            check(e.config_errors());
        }
        Ok(config) => {
            let audit = Audit::new();
            check(&config.validate(&audit));
            let mut audit = Audit::new();
            if let Err(e) = config.apply(&mut audit) {
                check(e.config_errors());
            }
            let _ = config.kind_table();
        }
    }
});
