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
#![deny(missing_docs)]

pub mod config;
pub mod de;
pub mod finding;
pub mod inventory;
pub mod kinds;
pub mod load;
pub mod netpol;
pub mod node;
pub mod object;
pub mod quota;
pub mod rbac;
pub mod report;
pub mod rule;
pub mod rules;
pub mod secctx;
pub mod suppress;
pub mod walk;
pub mod workload;
pub mod yaml;

use std::collections::{BTreeMap, BTreeSet};

pub use finding::{Finding, Related, Severity};
pub use inventory::Inventory;
pub use load::{load, Diagnostic, Input, Level, LoadOptions, Loaded};
pub use node::{Node, Pointer, Span, Value};
pub use object::{FileId, Object, ObjectId, ObjectRef, SourceFile};
pub use report::{Report, Summary};
pub use rule::{Context, OptionType, Rule, RuleMeta, RuleOption, Settings};
pub use workload::{ContainerKind, ContainerRef, Workload};

/// An audit: a set of rules and their settings, run over inventories.
pub struct Audit {
    rules: Vec<Box<dyn Rule>>,
    /// Rule options.
    pub settings: Settings,
    /// Severity overrides, by rule id (from the config file).
    pub severity: BTreeMap<String, Severity>,
    /// How suppressions written in the manifests are applied.
    pub suppression: suppress::Options,
    select: Option<BTreeSet<String>>,
    ignore: BTreeSet<String>,
}

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
            suppression: suppress::Options::default(),
            select: None,
            ignore: BTreeSet::new(),
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

    /// Runs only these rules (ids or categories). Unknown names are an error.
    pub fn select<S: AsRef<str>>(&mut self, names: &[S]) -> Result<(), String> {
        let set = self.resolve(names)?;
        self.select = Some(set);
        Ok(())
    }

    /// Never runs these rules (ids or categories). Unknown names are an error.
    pub fn ignore<S: AsRef<str>>(&mut self, names: &[S]) -> Result<(), String> {
        let set = self.resolve(names)?;
        self.ignore.extend(set);
        Ok(())
    }

    fn resolve<S: AsRef<str>>(&self, names: &[S]) -> Result<BTreeSet<String>, String> {
        let mut out = BTreeSet::new();
        for n in names {
            let n = n.as_ref();
            let matched: Vec<_> = self
                .rules()
                .filter(|r| r.meta().id == n || r.meta().category == n)
                .map(|r| r.meta().id.to_string())
                .collect();
            if matched.is_empty() {
                return Err(format!(
                    "unknown rule or category `{n}` (see `kubectl ml-audit rules`)"
                ));
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
        let cx = Context::new(inventory, &self.settings);
        let active = self.active();
        let mut findings = rule::run_rules(&cx, &active);
        let mut opts = self.suppression.clone();
        if let Some(n) = self.settings.get::<usize>(
            &rules::suppression::WITHOUT_REASON.id,
            rules::suppression::MIN_REASON_LENGTH,
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
        let mut diagnostics = inventory.diagnostics.clone();
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
