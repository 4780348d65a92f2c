//! The rules that report on suppressions themselves. Their findings are made
//! by [`crate::suppress::apply`], after every other rule has run, since they
//! depend on what the other rules found; the rules here carry the metadata
//! (ids, severities, catalogue pages) so they can be selected, ignored and
//! explained like any other.

use crate::finding::Severity;
use crate::rule::{Rule, RuleMeta};
use crate::rule_doc;

/// A suppression that gives no reason.
pub const WITHOUT_REASON: RuleMeta = RuleMeta::builtin(
    "suppression-without-reason",
    "suppression",
    Severity::Medium,
    "Suppressions must say why",
    rule_doc!("suppression-without-reason"),
);

/// A suppression past its expiry date.
pub const EXPIRED: RuleMeta = RuleMeta::builtin(
    "suppression-expired",
    "suppression",
    Severity::Medium,
    "Suppressions past their expiry date no longer apply",
    rule_doc!("suppression-expired"),
);

/// A suppression that suppresses nothing.
pub const UNUSED: RuleMeta = RuleMeta::builtin(
    "suppression-unused",
    "suppression",
    Severity::Low,
    "Suppressions must suppress something",
    rule_doc!("suppression-unused"),
);

/// The option of `suppression-without-reason`: reasons shorter than this
/// many characters count as none (default 1).
pub const MIN_REASON_LENGTH: &str = "min-reason-length";

struct MetaOnly(RuleMeta);

impl Rule for MetaOnly {
    fn meta(&self) -> &RuleMeta {
        &self.0
    }
}

/// The suppression rules.
pub fn rules() -> Vec<Box<dyn Rule>> {
    vec![
        Box::new(MetaOnly(WITHOUT_REASON)),
        Box::new(MetaOnly(EXPIRED)),
        Box::new(MetaOnly(UNUSED)),
    ]
}
