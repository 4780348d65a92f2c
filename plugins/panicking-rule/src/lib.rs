//! A test guest, not an example: its rule panics on every Pod, so that the
//! tests see the panic message reach the `plugin-error` finding.

use ml_audit_rule_sdk::prelude::*;

const RULE: RuleInfo = RuleInfo {
    id: "test-panicking-rule",
    title: "Panics on every Pod (a test guest)",
    severity: Severity::Low,
    kinds: &["Pod"],
    reads: &[],
    options: &[],
    doc: Doc {
        what: "Panics.",
        why: "To test that a panic message reaches the finding.",
        example: "",
        use_instead: "",
        references: &[],
    },
};

fn check(obj: &Object) -> Vec<Finding> {
    panic!("no team label on {}", obj.display_name());
}

export_plugin!("panicking-rule", [object(check, RULE)]);
