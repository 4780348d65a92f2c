//! The rules that report on suppressions themselves. Their findings are made
//! by [`crate::suppress::apply`], after every other rule has run, since they
//! depend on what the other rules found; the declarations here carry the
//! metadata (ids, severities, catalogue pages, options) so that they can be
//! selected, ignored and explained like any other rule.

/// A suppression that gives no reason.
pub(crate) mod without_reason {
    declare_rule! {
        id: "suppression-without-reason", category: "suppression", severity: Medium,
        title: "Suppressions must say why",
        options: [option!(
            "min-reason-length",
            Count,
            "1",
            "Reasons shorter than this many characters count as none."
        )],
    }

    /// The option that sets the shortest reason.
    pub(crate) const MIN_REASON_LENGTH: &str = "min-reason-length";
}

/// A suppression past its expiry date.
pub(crate) mod expired {
    declare_rule! {
        id: "suppression-expired", category: "suppression", severity: Medium,
        title: "Suppressions past their expiry date no longer apply",
    }
}

/// A suppression that suppresses nothing.
pub(crate) mod unused {
    declare_rule! {
        id: "suppression-unused", category: "suppression", severity: Low,
        title: "Suppressions must suppress something",
    }
}
