//! Suppressions written in the manifests themselves.
//!
//! - On an object: the annotation `ml-audit.io/ignore: "<rule-id>[,<rule-id>]"`
//!   with the required `ml-audit.io/ignore-reason`, and optionally
//!   `ml-audit.io/ignore-until: "YYYY-MM-DD"`. It covers every finding of
//!   those rules on that object. The same annotations on a pod template
//!   (`spec.template.metadata.annotations`, a RayCluster worker group's
//!   template, ...) cover the findings inside that template only.
//! - On a line: the comment `# ml-audit: ignore <rule-id>[,<rule-id>]
//!   [until=YYYY-MM-DD] -- <reason>` (the reason runs to the end of the line,
//!   or to a following ` # ` comment), at the end of the flagged line, or on a
//!   line of its own just above it (it then covers the next line that is not
//!   blank or a comment).
//!
//! A suppression without a reason does not apply and is reported
//! (`suppression-without-reason`); one past its `until` date does not apply
//! and is reported (`suppression-expired`); one that matches no finding of an
//! active rule, or names no rule, is reported (`suppression-unused`).
//! [`Options::exemptions`] `false` (`--no-annotation-exemptions`) ignores
//! them all: the platform team's config and baseline still apply.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fmt;

use crate::finding::Finding;
use crate::inventory::Inventory;
use crate::node::{Pointer, Span};
use crate::object::{Object, ObjectRef};
use crate::rules::suppression::{
    expired::META as EXPIRED, unused::META as UNUSED, without_reason::META as WITHOUT_REASON,
};

/// The annotation that lists the rules to ignore on an object.
pub const ANNOTATION: &str = "ml-audit.io/ignore";
/// The annotation that says why (required).
pub const REASON_ANNOTATION: &str = "ml-audit.io/ignore-reason";
/// The annotation that says until when (optional, `YYYY-MM-DD`).
pub const UNTIL_ANNOTATION: &str = "ml-audit.io/ignore-until";
/// The marker of an inline suppression comment.
pub const COMMENT_MARKER: &str = "# ml-audit:";

/// A calendar date (UTC).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    /// Year.
    pub year: i32,
    /// Month, 1-12.
    pub month: u32,
    /// Day, 1-31.
    pub day: u32,
}

impl Date {
    /// Today, by the system clock (UTC).
    pub fn today() -> Date {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Date::from_days((secs / 86_400) as i64)
    }

    /// The date `days` days after 1970-01-01 (H. Hinnant's civil_from_days).
    pub fn from_days(days: i64) -> Date {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Date { year, month, day }
    }

    /// Parses `YYYY-MM-DD`.
    pub fn parse(s: &str) -> Option<Date> {
        let mut it = s.trim().splitn(3, '-');
        let year = it.next()?.parse().ok()?;
        let month = it.next()?.parse().ok()?;
        let day = it.next()?.parse().ok()?;
        ((1..=12).contains(&month) && (1..=31).contains(&day)).then_some(Date { year, month, day })
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// How suppressions are applied.
#[derive(Clone, Debug)]
pub struct Options {
    /// Whether suppressions written in the manifests are honoured.
    pub exemptions: bool,
    /// The date expiries are compared with.
    pub today: Date,
    /// Reasons shorter than this (in characters) count as none.
    pub min_reason_length: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            exemptions: true,
            today: Date::today(),
            min_reason_length: 1,
        }
    }
}

/// Where a suppression is written, and what it covers.
#[derive(Clone, Debug)]
enum Scope {
    /// Every finding on this object.
    Object(ObjectRef),
    /// Every finding on this object under this pointer (a pod template).
    Template(ObjectRef, String),
    /// Every finding on this line.
    Line(u32),
}

/// One suppression found in the input.
#[derive(Clone, Debug)]
pub struct Suppression {
    file: String,
    /// For an annotation: every file its object is written in (a rendered
    /// object's base and patches); a finding in any of them is covered.
    files: Vec<String>,
    scope: Scope,
    /// The object it is written on (or next to), for reporting.
    object: usize,
    /// Where it is written, and its pointer (annotations).
    span: Span,
    pointer: String,
    ids: Vec<String>,
    reason: Option<String>,
    until: Option<Date>,
    bad_until: Option<String>,
}

/// Every suppression in the inventory, annotations then comments, in order.
pub fn collect(inv: &Inventory) -> Vec<Suppression> {
    let mut out = Vec::new();
    for o in &inv.objects {
        let Some(list) = o.annotations.get(ANNOTATION) else {
            continue;
        };
        let ptr = Pointer::root().keys(&["metadata", "annotations", ANNOTATION]);
        let (until, bad_until) = match o.annotations.get(UNTIL_ANNOTATION) {
            None => (None, None),
            Some(s) => match Date::parse(s) {
                Some(d) => (Some(d), None),
                None => (None, Some(s.clone())),
            },
        };
        let at = inv.place(o, ptr.as_str());
        out.push(Suppression {
            file: at.file.to_string(),
            files: object_files(inv, o),
            scope: Scope::Object(o.reference()),
            object: o.id,
            span: at.span,
            pointer: ptr.to_string(),
            ids: split_ids(list),
            reason: o
                .annotations
                .get(REASON_ANNOTATION)
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty()),
            until,
            bad_until,
        });
    }
    for w in &inv.workloads {
        let Some(meta) = &w.meta_pointer else {
            continue;
        };
        let (Some(list), Some(prefix)) = (
            w.annotations.get(ANNOTATION),
            meta.as_str().strip_suffix("/metadata"),
        ) else {
            continue;
        };
        if prefix.is_empty() {
            continue; // the object's own metadata: done above
        }
        let o = &inv.objects[w.object];
        let ptr = Pointer::parse(meta.as_str()).keys(&["annotations", ANNOTATION]);
        let (until, bad_until) = match w.annotations.get(UNTIL_ANNOTATION) {
            None => (None, None),
            Some(s) => match Date::parse(s) {
                Some(d) => (Some(d), None),
                None => (None, Some(s.clone())),
            },
        };
        let at = inv.place(o, ptr.as_str());
        out.push(Suppression {
            file: at.file.to_string(),
            files: object_files(inv, o),
            scope: Scope::Template(o.reference(), prefix.to_string()),
            object: o.id,
            span: at.span,
            pointer: ptr.to_string(),
            ids: split_ids(list),
            reason: w
                .annotations
                .get(REASON_ANNOTATION)
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty()),
            until,
            bad_until,
        });
    }
    // Few files hold a marker: they are found in parallel (reading every
    // text on one thread was a tenth of a large audit's serial tail). Only
    // real YAML comments are markers, as the parser found them: never a
    // `# ml-audit:` inside a string value, and none in JSON.
    let marked: Vec<usize> = {
        use rayon::prelude::*;
        (0..inv.files.len())
            .into_par_iter()
            .filter(|&fid| {
                let f = &inv.files[fid];
                f.comments
                    .iter()
                    .any(|&c| f.text[c..].starts_with(COMMENT_MARKER))
            })
            .collect()
    };
    for fid in marked {
        let f = &inv.files[fid];
        let mut starts = vec![0usize];
        starts.extend(
            f.text
                .bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1),
        );
        let lines: Vec<&str> = f.text.lines().collect();
        let is_comment = |c: usize| f.comments.binary_search(&c).is_ok();
        // A line with nothing but a comment (or blanks).
        let comment_only = |j: usize| {
            let t = lines[j].trim_start_matches([' ', '\t']);
            t.is_empty() || is_comment(starts[j] + (lines[j].len() - t.len()))
        };
        // The objects written in this file: read from it, or rendered with
        // a part of them from it (a patch).
        let objs: Vec<&Object> = inv
            .objects
            .iter()
            .filter(|o| o.file == fid || o.origins.iter().any(|w| w.file == fid))
            .collect();
        for &c in &f.comments {
            if !f.text[c..].starts_with(COMMENT_MARKER) {
                continue;
            }
            let i = starts.partition_point(|&s| s <= c) - 1;
            let Some(line) = lines.get(i) else {
                continue;
            };
            let at = c - starts[i];
            let rest = line[at + COMMENT_MARKER.len()..].trim_start();
            let Some(rest) = rest.strip_prefix("ignore") else {
                continue;
            };
            let (spec, reason) = match rest.split_once(" -- ") {
                Some((s, r)) => {
                    // The reason ends at a following ` # ` comment.
                    let r = format!(" {r}");
                    let r = r.split(" # ").next().unwrap_or("").trim().to_string();
                    (s, Some(r).filter(|r| !r.is_empty()))
                }
                None => (rest.strip_suffix(" --").unwrap_or(rest), None),
            };
            let spec = spec.split('#').next().unwrap_or("");
            let mut ids = Vec::new();
            let (mut until, mut bad_until) = (None, None);
            for tok in spec.split([' ', ',', '\t']).filter(|t| !t.is_empty()) {
                if let Some(d) = tok.strip_prefix("until=") {
                    match Date::parse(d) {
                        Some(d) => until = Some(d),
                        None => bad_until = Some(d.to_string()),
                    }
                } else {
                    ids.push(tok.to_string());
                }
            }
            let own_line = line[..at].trim().is_empty();
            let target = if own_line {
                (i + 1..lines.len())
                    .find(|j| !comment_only(*j))
                    .map_or(i as u32 + 2, |j| j as u32 + 1)
            } else {
                i as u32 + 1
            };
            let object = objs
                .iter()
                .find(|o| o.root.span.line <= target && target <= o.root.span.end_line)
                .or_else(|| objs.iter().find(|o| o.root.span.line >= target))
                .or(objs.last());
            let Some(object) = object else {
                continue;
            };
            let col = line[..at].chars().count() as u32 + 1;
            out.push(Suppression {
                file: f.path.clone(),
                files: Vec::new(),
                scope: Scope::Line(target),
                object: object.id,
                span: Span {
                    line: i as u32 + 1,
                    col,
                    end_line: i as u32 + 1,
                    end_col: line.chars().count() as u32 + 1,
                },
                pointer: String::new(),
                ids,
                reason,
                until,
                bad_until,
            });
        }
    }
    out
}

/// Every file an object is written in.
fn object_files(inv: &Inventory, o: &Object) -> Vec<String> {
    let mut ids: Vec<usize> = std::iter::once(o.file)
        .chain(o.origins.iter().map(|w| w.file))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids.into_iter().map(|i| inv.files[i].path.clone()).collect()
}

fn split_ids(s: &str) -> Vec<String> {
    s.split([',', ' '])
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

impl Suppression {
    fn covers(&self, f: &Finding) -> bool {
        let in_file = match self.scope {
            Scope::Line(_) => f.file == self.file,
            _ => self.files.contains(&f.file),
        };
        in_file
            && self.ids.contains(&f.rule)
            && match &self.scope {
                Scope::Object(r) => f.object == *r,
                Scope::Template(r, prefix) => {
                    f.object == *r
                        && f.pointer.starts_with(prefix.as_str())
                        && f.pointer[prefix.len()..].starts_with('/')
                }
                Scope::Line(l) => f.span.line == *l,
            }
    }

    fn has_reason(&self, opts: &Options) -> bool {
        self.reason
            .as_ref()
            .is_some_and(|r| r.chars().count() >= opts.min_reason_length.max(1))
    }

    fn what(&self) -> String {
        match self.scope {
            Scope::Object(_) | Scope::Template(..) => {
                format!("annotation `{ANNOTATION}: {}`", self.ids.join(","))
            }
            Scope::Line(_) => format!("comment `ml-audit: ignore {}`", self.ids.join(",")),
        }
    }
}

/// Applies the suppressions of `inv` to `findings`: covered findings are
/// removed (their number is returned), and findings of the `suppression-*`
/// rules are added for suppressions without a reason, expired, or unused.
/// `active(id)` says whether a rule ran; `known(id)` whether it exists.
pub fn apply(
    inv: &Inventory,
    findings: &mut Vec<Finding>,
    opts: &Options,
    active: &dyn Fn(&str) -> bool,
    known: &dyn Fn(&str) -> bool,
) -> usize {
    if !opts.exemptions {
        return 0;
    }
    let sups = collect(inv);
    if sups.is_empty() {
        return 0;
    }
    let mut used: BTreeSet<(usize, String)> = BTreeSet::new();
    let mut extra = Vec::new();
    let valid: Vec<bool> = sups
        .iter()
        .map(|s| {
            s.has_reason(opts) && s.until.is_none_or(|u| u >= opts.today) && s.bad_until.is_none()
        })
        .collect();
    let before = findings.len();
    findings.retain(|f| {
        let mut keep = true;
        for (i, s) in sups.iter().enumerate() {
            if valid[i] && s.covers(f) {
                used.insert((i, f.rule.clone()));
                keep = false;
            }
        }
        keep
    });
    let suppressed = before - findings.len();
    let report =
        |meta: &crate::rule::RuleMeta, s: &Suppression, msg: String, help: Cow<'static, str>| {
            let o = &inv.objects[s.object];
            Finding {
                rule: meta.id.to_string(),
                severity: meta.severity,
                object: o.reference(),
                file: s.file.clone(),
                span: s.span,
                pointer: s.pointer.clone(),
                context: None,
                message: format!("{}: {msg}", o.display_name()),
                help: Some(help),
                related: Vec::new(),
                units: o
                    .unit
                    .and_then(|u| inv.units.get(u as usize))
                    .map(|u| vec![u.path.clone()])
                    .unwrap_or_default(),
            }
        };
    // A suppression written once and rendered in several units is used
    // when any of its copies is.
    let used_at: BTreeSet<(&str, Span, &str)> = used
        .iter()
        .map(|(i, id)| (sups[*i].file.as_str(), sups[*i].span, id.as_str()))
        .collect();
    for (i, s) in sups.iter().enumerate() {
        if !s.has_reason(opts) && active(&WITHOUT_REASON.id) {
            let how = match s.scope {
                Scope::Object(_) | Scope::Template(..) => {
                    format!("add the annotation `{REASON_ANNOTATION}`")
                }
                Scope::Line(_) => "end the comment with ` -- <reason>`".to_string(),
            };
            extra.push(report(
                &WITHOUT_REASON,
                s,
                format!("{} gives no reason, so it does not apply", s.what()),
                format!("say why the finding is acceptable: {how}").into(),
            ));
        }
        if let Some(bad) = &s.bad_until {
            if active(&EXPIRED.id) {
                extra.push(report(
                    &EXPIRED,
                    s,
                    format!(
                        "{} has an unreadable expiry `{bad}`, so it does not apply",
                        s.what()
                    ),
                    "write the date as YYYY-MM-DD".into(),
                ));
            }
        }
        if let Some(u) = s.until.filter(|u| *u < opts.today) {
            if active(&EXPIRED.id) {
                extra.push(report(
                    &EXPIRED,
                    s,
                    format!("{} expired on {u}, so it no longer applies", s.what()),
                    "fix what it suppressed, or renew the suppression with a later date".into(),
                ));
            }
        }
        if valid[i] && active(&UNUSED.id) {
            for id in &s.ids {
                if !known(id) {
                    extra.push(report(
                        &UNUSED,
                        s,
                        format!("{} names no rule `{id}`", s.what()),
                        "use the id of a built-in or plugin rule".into(),
                    ));
                } else if active(id)
                    && !used.contains(&(i, id.clone()))
                    && !used_at.contains(&(s.file.as_str(), s.span, id.as_str()))
                {
                    extra.push(report(
                        &UNUSED,
                        s,
                        format!(
                            "{} suppresses nothing: rule `{id}` has no finding here",
                            s.what()
                        ),
                        "remove the suppression: the finding it was for is gone".into(),
                    ));
                }
            }
        }
    }
    findings.extend(extra);
    suppressed
}
