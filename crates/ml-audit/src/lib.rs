//! # ml-audit
//!
//! Audits the Kubernetes manifests of machine-learning platforms: every pod
//! that any object will create (pod templates inside RayClusters,
//! PyTorchJobs, Notebooks, InferenceServices, JobSets, Argo Workflows, ...)
//! is checked, and every finding points at the file, line and column to
//! change.
//!
//! ```
//! use ml_audit::{Audit, Input, Inventory, LoadOptions};
//!
//! let yaml = "apiVersion: ray.io/v1\nkind: RayCluster\nmetadata: {name: rc, namespace: ml}\nspec:\n  headGroupSpec:\n    template:\n      spec:\n        containers:\n        - name: ray-head\n          image: rayproject/ray:2.9.0\n          securityContext: {privileged: true}\n";
//! let loaded = ml_audit::load(&[Input::Text { name: "rc.yaml".into(), text: yaml.into() }], &LoadOptions::default());
//! let inventory = Inventory::new(loaded);
//! let report = Audit::new().run(&inventory);
//! let f = report.findings.iter().find(|f| f.rule == "pss-privileged").unwrap();
//! assert_eq!((f.span.line, f.span.col), (11, 29));
//! ```
//!
//! The API: [`load`] and [`Inventory`] (with the [`KindTable`] a config
//! extends), [`Audit`] and its [`Report`] of [`Finding`]s, [`find_units`]
//! (what a repository deploys: kustomization roots and plain folders, each
//! a [`Unit`] with a [`Role`]), the [`Rule`]
//! trait and [`RuleMeta`] for a tool's own rules, [`Error`]; and five
//! modules: [`config`] (`.ml-audit.yaml`), [`baseline`] (accepted
//! findings), [`rbac`] (who can do what, and who can become whom),
//! [`netpol`] (who can reach what) and [`quota`] (requested against
//! allowed). A binary that links it picks the Kubernetes version:
//! `k8s-openapi = { version = "0.29", features = ["latest"] }`.
#![deny(missing_docs)]

// The API is what this root re-exports, plus five modules of queries and
// files: `baseline`, `config`, `netpol` (reachability), `quota` (the quota
// ledger) and `rbac` (the privilege graph). Everything else is private.
pub mod baseline;
pub mod config;
mod coverage;
mod de;
mod error;
mod finding;
mod inventory;
mod kinds;
mod kustomize;
mod load;
pub mod netpol;
mod node;
mod object;
pub mod quota;
pub mod rbac;
mod repo;
mod report;
mod rule;
mod rules;
mod secctx;
mod suppress;
mod units;
mod walk;
mod workload;
#[doc(hidden)]
pub mod yaml;

use std::collections::{BTreeMap, BTreeSet};

pub use coverage::NotAudited;
pub use error::{Error, Result};
pub use finding::{Finding, Related, Severity};
pub use inventory::{Inventory, NamespaceInfo, Place};
pub use kinds::{Count, KindSpec, KindTable, PodSource};
pub use kustomize::{
    content_hash as kustomize_content_hash, kustomization_file, render as render_kustomization,
    Origin, RenderError, RenderedObject,
};
pub use load::{decode, load, Diagnostic, Fallback, Input, Level, LoadOptions, Loaded, Render};
pub use node::{Entry, Node, Pointer, Span, Value};
pub use object::{FileId, Object, ObjectId, ObjectRef, SourceFile, Written};
pub use report::{write_json_pretty, FindingJson, Report, Summary, JSON_SCHEMA_VERSION};
pub use rule::{profile, set_profiling, Context, OptionType, Rule, RuleMeta, RuleOption, Settings};
pub use rules::secrets::{secret_sites, secret_spans};
pub use secctx::{
    effective as effective_security_context, Effective as EffectiveSecurityContext, Set as SetAt,
};
pub use suppress::Options as SuppressionOptions;
pub use units::{find_units, RemoteBase, Role, Unit, UnitFile, UnitKind, Units, Use};
pub use workload::{ContainerKind, ContainerRef, Workload};

/// Internals for this crate's own tests, benchmarks and fuzz targets: not
/// part of the API, and may change in any release.
#[doc(hidden)]
pub mod __internals {
    pub use crate::load::display_path;
    pub use crate::netpol::{verdict, Ep, NaiveOracle};
    pub use crate::rule::run_rules;
    pub use crate::rules::pss::{level_of, PssLevel};
    pub use crate::walk::read_index;
}

/// Keeps the findings in the files `keep` accepts, and those on rendered
/// objects that an accepted file helps write (each finding names one unit
/// until [`merge_units`]).
fn report_only(inventory: &Inventory, keep: &ReportOnly, findings: &mut Vec<Finding>) {
    let accepted: Vec<bool> = inventory.files.iter().map(|f| keep(&f.path)).collect();
    // A unit one of whose kustomization files is accepted is touched as a
    // whole: any object it renders may change with it.
    let whole: Vec<bool> = inventory
        .units
        .iter()
        .map(|u| {
            u.files
                .iter()
                .any(|f| f.used_as == Use::Kustomization && keep(&f.path))
        })
        .collect();
    let mut touched: std::collections::HashSet<(&str, ObjectRef)> = Default::default();
    for o in &inventory.objects {
        let Some(u) = o.unit else {
            continue;
        };
        let Some(unit) = inventory.units.get(u as usize) else {
            continue;
        };
        if whole[u as usize] || accepted[o.file] || o.origins.iter().any(|w| accepted[w.file]) {
            touched.insert((unit.path.as_str(), o.reference()));
        }
    }
    findings.retain(|f| {
        keep(&f.file)
            || f.units
                .first()
                .is_some_and(|u| touched.contains(&(u.as_str(), f.object.clone())))
    });
}

/// One finding per rule and place across units: a line of a base that
/// several kustomization units render is reported once, on the object as
/// the first unit (in path order) renders it, naming every unit. The
/// order of the findings is kept.
fn merge_units(findings: &mut Vec<Finding>) {
    if findings.iter().all(|f| f.units.is_empty()) {
        return;
    }
    let mut first: std::collections::HashMap<(String, String, Span), usize> =
        std::collections::HashMap::new();
    let mut keep = vec![true; findings.len()];
    for i in 0..findings.len() {
        if findings[i].units.is_empty() {
            continue;
        }
        let key = (
            findings[i].rule.clone(),
            findings[i].file.clone(),
            findings[i].span,
        );
        match first.get(&key) {
            Some(&j) => {
                if findings[i].units < findings[j].units {
                    findings.swap(i, j);
                }
                let units = std::mem::take(&mut findings[i].units);
                findings[j].units.extend(units);
                findings[j].units.sort();
                findings[j].units.dedup();
                keep[i] = false;
            }
            None => {
                first.insert(key, i);
            }
        }
    }
    let mut k = keep.into_iter();
    findings.retain(|_| k.next().unwrap_or(true));
}

/// An audit: a set of rules and their settings, run over inventories.
pub struct Audit {
    rules: Vec<Box<dyn Rule>>,
    /// Rule options.
    pub settings: Settings,
    /// Severity overrides, by rule id (from the config file).
    pub severity: BTreeMap<String, Severity>,
    /// How suppressions written in the manifests are applied.
    pub suppression: SuppressionOptions,
    select: Option<BTreeSet<String>>,
    ignore: BTreeSet<String>,
    /// Report only findings in the files this accepts, and findings on a
    /// rendered object that an accepted file helps write (a patch): what
    /// a pre-commit hook does with the staged files. `None`: every finding.
    pub report_only: Option<ReportOnly>,
}

/// A filter of the files whose findings are reported: see
/// [`Audit::report_only`].
pub type ReportOnly = Box<dyn Fn(&str) -> bool + Send + Sync>;

impl Default for Audit {
    fn default() -> Self {
        Audit::new()
    }
}

impl Audit {
    /// An audit with every built-in rule.
    pub fn new() -> Audit {
        Audit {
            rules: rules::builtin(),
            settings: Settings::default(),
            severity: BTreeMap::new(),
            suppression: SuppressionOptions::default(),
            select: None,
            ignore: BTreeSet::new(),
            report_only: None,
        }
    }

    /// Adds a rule (a plugin rule, or a tool's own).
    pub fn add_rule(&mut self, rule: Box<dyn Rule>) {
        self.rules.push(rule);
    }

    /// Every rule known to this audit, selected or not.
    pub fn rules(&self) -> impl Iterator<Item = &dyn Rule> {
        self.rules.iter().map(|r| r.as_ref())
    }

    /// The rule with this id.
    pub fn rule(&self, id: &str) -> Option<&dyn Rule> {
        self.rules().find(|r| r.meta().id == id)
    }

    /// Sets an option of a rule, checked against the options the rule
    /// declares ([`RuleMeta::check_option`]): an unknown rule, an unknown
    /// option or a value of another type is an error, and nothing is set.
    pub fn set_option(&mut self, rule: &str, option: &str, value: serde_json::Value) -> Result<()> {
        let r = self
            .rule(rule)
            .ok_or_else(|| Error::RuleOption(format!("unknown rule `{rule}`")))?;
        r.meta().check_option(option, &value)?;
        self.settings.set(rule, option, value);
        Ok(())
    }

    /// The options in [`Audit::settings`] that no rule of this audit
    /// declares, or whose value is not of the declared type (set with
    /// [`Settings::set`], which does not check): [`Audit::run`] reports them
    /// as errors instead of leaving the rule to ignore them.
    pub fn option_errors(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (id, opts) in &self.settings.options {
            for (k, v) in opts {
                let checked = match self.rule(id) {
                    Some(r) => r.meta().check_option(k, v).map_err(|e| e.to_string()),
                    None => Err(format!("option `{k}` is given to unknown rule `{id}`")),
                };
                if let Err(e) = checked {
                    out.push(e);
                }
            }
        }
        out
    }

    /// Runs only these rules (ids or categories). Unknown names are an error.
    pub fn select<S: AsRef<str>>(&mut self, names: &[S]) -> Result<()> {
        let set = self.resolve(names)?;
        self.select = Some(set);
        Ok(())
    }

    /// Never runs these rules (ids or categories). Unknown names are an error.
    pub fn ignore<S: AsRef<str>>(&mut self, names: &[S]) -> Result<()> {
        let set = self.resolve(names)?;
        self.ignore.extend(set);
        Ok(())
    }

    fn resolve<S: AsRef<str>>(&self, names: &[S]) -> Result<BTreeSet<String>> {
        let mut out = BTreeSet::new();
        for n in names {
            let n = n.as_ref();
            let matched: Vec<_> = self
                .rules()
                .filter(|r| r.meta().id == n || r.meta().category == n)
                .map(|r| r.meta().id.to_string())
                .collect();
            if matched.is_empty() {
                return Err(Error::UnknownRule(n.to_string()));
            }
            out.extend(matched);
        }
        Ok(out)
    }

    /// The rules that will run.
    pub fn active(&self) -> Vec<&dyn Rule> {
        self.rules()
            .filter(|r| {
                let id = r.meta().id.as_ref();
                self.select.as_ref().is_none_or(|s| s.contains(id)) && !self.ignore.contains(id)
            })
            .collect()
    }

    /// Runs the active rules over an inventory.
    pub fn run(&self, inventory: &Inventory) -> Report {
        // Options of another name or type than declared are errors in the
        // report (a rule reads none of them).
        let option_errors = self.option_errors();
        let cx = Context::new(inventory, &self.settings);
        let active = self.active();
        let mut findings = rule::run_rules(&cx, &active);
        let mut opts = self.suppression.clone();
        if let Some(n) = self.settings.get::<usize>(
            &rules::suppression::without_reason::META,
            rules::suppression::without_reason::MIN_REASON_LENGTH,
        ) {
            opts.min_reason_length = n;
        }
        let is_active = |id: &str| active.iter().any(|r| r.meta().id == id);
        let is_known = |id: &str| self.rule(id).is_some();
        let before = findings.len();
        // The shared analyses (the RBAC graph, the reachability tables, ...)
        // are freed on other threads while suppressions are applied: freed
        // on this one, they left a core idle for 30 ms at 100,000 objects.
        let analyses = cx.take_analyses();
        let ((), suppressed) = rayon::join(
            move || {
                use rayon::prelude::*;
                analyses.into_par_iter().with_max_len(1).for_each(drop)
            },
            || suppress::apply(inventory, &mut findings, &opts, &is_active, &is_known),
        );
        for f in &mut findings {
            if let Some(s) = self.severity.get(&f.rule) {
                f.severity = *s;
            }
        }
        // Removing findings keeps the order (severity is not in the sort
        // key); only the suppression rules' own findings need placing.
        if findings.len() + suppressed != before {
            rule::sort_findings(&mut findings);
        }
        if let Some(keep) = &self.report_only {
            report_only(inventory, keep, &mut findings);
        }
        merge_units(&mut findings);
        let mut diagnostics = inventory.diagnostics.clone();
        diagnostics.extend(option_errors.into_iter().map(|message| Diagnostic {
            level: Level::Error,
            file: String::new(),
            line: 0,
            col: 0,
            message,
        }));
        diagnostics.sort();
        diagnostics.dedup();
        let mut summary = Summary {
            files: inventory.files.len(),
            objects: inventory.objects.len(),
            workloads: inventory.workloads.len(),
            errors: diagnostics
                .iter()
                .filter(|d| d.level == Level::Error)
                .count(),
            suppressed,
            skipped: inventory.skipped,
            not_audited: inventory.not_audited.clone(),
            ..Summary::default()
        };
        for f in &findings {
            *summary.findings.entry(f.severity).or_default() += 1;
        }
        Report {
            findings,
            diagnostics,
            summary,
        }
    }
}
