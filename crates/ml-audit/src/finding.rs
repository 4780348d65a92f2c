//! Findings: what a rule reports, where, and why.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::node::Span;
use crate::object::ObjectRef;

/// How serious a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// For information only.
    Info,
    /// Hygiene; low risk.
    Low,
    /// A weakness to fix.
    Medium,
    /// A serious weakness.
    High,
    /// Exploitable as is, or the API server will reject it.
    Critical,
}

impl Severity {
    /// Every severity, lowest first.
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Severity::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("unknown severity `{s}` (info, low, medium, high, critical)"))
    }
}

/// Another place that explains a finding (the binding that grants a role,
/// the Service that exposes a port, the quota that is exceeded).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Related {
    /// The file.
    pub file: String,
    /// Where in it.
    pub span: Span,
    /// The object there, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<ObjectRef>,
    /// JSON pointer inside that object.
    pub pointer: String,
    /// What this place has to do with the finding.
    pub message: String,
}

/// One problem found by one rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Rule id.
    pub rule: String,
    /// Severity (after namespace enforcement and config overrides).
    pub severity: Severity,
    /// The object at fault.
    pub object: ObjectRef,
    /// The file it is in.
    pub file: String,
    /// Where: the narrowest node at fault.
    pub span: Span,
    /// JSON pointer of that node inside the object.
    pub pointer: String,
    /// The workload role (`worker gpu-group`) and container, when relevant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    /// What is wrong.
    pub message: String,
    /// How to fix it. Most rules give the same text to every finding: it is
    /// borrowed, not copied into each (220,000 findings at 100,000 objects).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<Cow<'static, str>>,
    /// Other places that explain it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<Related>,
    /// The kustomization units whose rendering holds it, in path order
    /// (empty for an object read as written). A line of a base that
    /// several units render is one finding, on the object as the first
    /// unit renders it, naming every unit.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub units: Vec<String>,
}

impl Finding {
    /// A finding with every field empty, which allocates nothing: left in
    /// the place of one moved out.
    pub(crate) fn empty() -> Finding {
        Finding {
            rule: String::new(),
            severity: Severity::Info,
            object: ObjectRef {
                api_version: String::new(),
                kind: String::new(),
                namespace: None,
                name: String::new(),
            },
            file: String::new(),
            span: Span::default(),
            pointer: String::new(),
            context: None,
            message: String::new(),
            help: None,
            related: Vec::new(),
            units: Vec::new(),
        }
    }

    /// A fingerprint that survives unrelated edits: rule, object identity and
    /// path inside the object, never line numbers.
    pub fn fingerprint(&self) -> String {
        self.fingerprint_hex()
            .iter()
            .map(|&d| char::from(d))
            .collect()
    }

    /// [`Finding::fingerprint`]'s 16 hex digits, without a `String` (the
    /// JSON report writes one per finding).
    pub(crate) fn fingerprint_hex(&self) -> [u8; 16] {
        // FNV-1a over the fields joined by NUL, hashed piece by piece (no
        // joined copy: this runs once per finding in every output).
        let group = self.object.api_version.split('/').next().unwrap_or("");
        let parts = [
            self.rule.as_str(),
            group,
            &self.object.kind,
            self.object.namespace.as_deref().unwrap_or(""),
            &self.object.name,
            &self.pointer,
        ];
        let mut h = FNV_OFFSET;
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                h = fnv1a_from(h, &[0]);
            }
            h = fnv1a_from(h, part.as_bytes());
        }
        let mut hex = [0u8; 16];
        for (i, d) in hex.iter_mut().enumerate() {
            *d = b"0123456789abcdef"[((h >> (60 - 4 * i)) & 0xf) as usize];
        }
        hex
    }

    /// The sort key that makes output deterministic.
    pub fn sort_key(&self) -> impl Ord + '_ {
        (&self.file, self.sort_key_in_file())
    }

    /// The sort key among the findings of one file (the rest of
    /// [`Finding::sort_key`]).
    pub(crate) fn sort_key_in_file(&self) -> impl Ord + '_ {
        (
            self.span.line,
            self.span.col,
            &self.rule,
            &self.pointer,
            &self.message,
        )
    }
}

/// 64-bit FNV-1a: stable across versions and platforms (unlike `DefaultHasher`).
#[cfg(test)]
fn fnv1a(bytes: &[u8]) -> u64 {
    fnv1a_from(FNV_OFFSET, bytes)
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// FNV-1a continued from the hash `h` of the bytes before these.
fn fnv1a_from(mut h: u64, bytes: &[u8]) -> u64 {
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::Span;
    use crate::object::ObjectRef;

    fn finding(
        rule: &str,
        api: &str,
        kind: &str,
        ns: Option<&str>,
        name: &str,
        ptr: &str,
    ) -> Finding {
        Finding {
            rule: rule.into(),
            severity: Severity::High,
            object: ObjectRef {
                api_version: api.into(),
                kind: kind.into(),
                namespace: ns.map(str::to_string),
                name: name.into(),
            },
            file: "a.yaml".into(),
            span: Span::default(),
            pointer: ptr.into(),
            context: None,
            message: "m".into(),
            help: None,
            related: Vec::new(),
            units: Vec::new(),
        }
    }

    /// Fingerprints are stored in users' baselines: they must never change.
    /// These values are FNV-1a of the NUL-joined fields, as first released.
    #[test]
    fn fingerprints_stay_as_released() {
        let f = finding(
            "pss-privileged",
            "apps/v1",
            "Deployment",
            Some("team-a"),
            "trainer",
            "/spec/template/spec/containers/0/securityContext/privileged",
        );
        assert_eq!(f.fingerprint(), "c32c43b56c16f82d");
        let f = finding(
            "rbac-wildcard-rule",
            "v1",
            "ClusterRole",
            None,
            "all",
            "/rules/0",
        );
        // `v1` has no group: the group part is the whole apiVersion.
        let joined = "rbac-wildcard-rule\0v1\0ClusterRole\0\0all\0/rules/0";
        assert_eq!(
            f.fingerprint(),
            format!("{:016x}", fnv1a(joined.as_bytes()))
        );
    }
}
