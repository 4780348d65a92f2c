//! The configuration file, `.ml-audit.yaml`: which rules run, at which
//! severity, with which options; paths to leave out; plugins; the `fail-on`
//! default; extensions of the kinds table.
//!
//! It is read in two phases, as cargo-deny reads its config: [`Config::parse`]
//! checks the shape (an unknown key is an error at its line), then
//! [`Config::validate`] checks the names against an [`Audit`] (an unknown rule
//! id is an error at its line). [`Config::apply`] does both checks' second
//! half and configures the audit.
//!
//! ```
//! use ml_audit::{config::Config, Audit};
//! let text = "select: [pod-security]\nseverity:\n  pss-apparmor: high\nfail-on: medium\n";
//! let config = Config::parse(".ml-audit.yaml", text).unwrap();
//! let mut audit = Audit::new();
//! config.apply(&mut audit).unwrap();
//! assert!(Config::parse(".ml-audit.yaml", "selct: [x]\n").is_err());
//! ```

use std::fmt;
use std::path::{Path, PathBuf};

use crate::de::from_node;
use crate::finding::Severity;
use crate::kinds::{KindSpec, KindTable};
use crate::node::{Node, Span, Value};
use crate::yaml::{parse_stream, Limits};
use crate::Audit;

/// The file names looked for, in each directory from the working directory up.
pub const FILE_NAMES: [&str; 2] = [".ml-audit.yaml", ".ml-audit.yml"];

/// The keys a config file may have.
pub const KEYS: [&str; 10] = [
    "select",
    "ignore",
    "severity",
    "rules",
    "exclude",
    "plugins",
    "fail-on",
    "annotation-exemptions",
    "kinds",
    "units",
];

/// A problem in a config file, at a place in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The config file.
    pub file: String,
    /// 1-based line (0 when the whole file is at fault).
    pub line: u32,
    /// 1-based column.
    pub col: u32,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.col, self.message
        )
    }
}

impl std::error::Error for ConfigError {}

/// A value with the place it was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Spanned<T> {
    /// The value.
    pub value: T,
    /// Where it is written.
    pub span: Span,
}

/// One option given to a rule under `rules:`: its name and value, each
/// with the place it is written.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleSetting {
    /// The option's name.
    pub name: Spanned<String>,
    /// Its value.
    pub value: Spanned<serde_json::Value>,
}

/// A parsed config file.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// The file it was read from (as shown in messages).
    pub file: String,
    /// The directory relative paths (plugins) are resolved against.
    pub dir: PathBuf,
    /// Rules or categories to run (all when empty).
    pub select: Vec<Spanned<String>>,
    /// Rules or categories never to run.
    pub ignore: Vec<Spanned<String>>,
    /// Severity overrides, by rule id.
    pub severity: Vec<(Spanned<String>, Severity)>,
    /// Rule options, by rule id, in the order written.
    pub rules: Vec<(Spanned<String>, Vec<RuleSetting>)>,
    /// Path fragments to leave out (a file whose path contains one is skipped).
    pub exclude: Vec<String>,
    /// WebAssembly rule modules, resolved against the config's directory.
    pub plugins: Vec<PathBuf>,
    /// The default of `--fail-on`.
    pub fail_on: Option<Severity>,
    /// Whether suppressions written in the manifests themselves (annotations,
    /// inline comments) are honoured; `false` is `--no-annotation-exemptions`.
    pub annotation_exemptions: Option<bool>,
    /// Extra entries for the kinds table (the `kinds.yaml` shape).
    pub kinds: Vec<KindSpec>,
    /// `units: {roles: [...]}`: the roles of the units to audit and list
    /// (every role when empty).
    pub unit_roles: Vec<crate::Role>,
}

impl Config {
    /// The config file that applies to `start`: `.ml-audit.yaml` (or `.yml`)
    /// in it or the nearest directory above it.
    pub fn discover(start: &Path) -> Option<PathBuf> {
        let mut dir = Some(start);
        while let Some(d) = dir {
            for name in FILE_NAMES {
                let p = d.join(name);
                if p.is_file() {
                    return Some(p);
                }
            }
            dir = d.parent();
        }
        None
    }

    /// Reads and parses a config file (phase one: shape).
    pub fn load(path: &Path) -> crate::Result<Config> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| {
            crate::Error::Config(vec![ConfigError {
                file: name.clone(),
                line: 0,
                col: 0,
                message: format!("cannot read config file: {e}"),
            }])
        })?;
        let mut c = Config::parse(&name, &text)?;
        c.dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        c.plugins = c.plugins.iter().map(|p| c.dir.join(p)).collect();
        Ok(c)
    }

    /// Parses config text (phase one: shape). Every problem is reported, each
    /// at its line.
    pub fn parse(file: &str, text: &str) -> crate::Result<Config> {
        let mut p = Parser {
            file: file.to_string(),
            errors: Vec::new(),
        };
        let mut c = Config {
            file: file.to_string(),
            ..Config::default()
        };
        let (docs, err) = parse_stream(text, Limits::default());
        if let Some(e) = err {
            return Err(crate::Error::Config(vec![ConfigError {
                file: file.into(),
                line: e.line,
                col: e.col,
                message: format!("invalid YAML: {}", e.message),
            }]));
        }
        if docs.len() > 1 {
            p.err(docs[1].root.span, "a config file holds one YAML document");
        }
        let Some(doc) = docs.first() else {
            return Ok(c);
        };
        match &doc.root.value {
            Value::Null => return Ok(c),
            Value::Map(entries) => {
                for e in entries {
                    let v = &e.value;
                    match e.key.as_str() {
                        "select" => c.select = p.names(v),
                        "ignore" => c.ignore = p.names(v),
                        "severity" => {
                            for (k, val) in p.map(v) {
                                match val.as_str().map(str::parse::<Severity>) {
                                    Some(Ok(s)) => c.severity.push((k, s)),
                                    Some(Err(m)) => p.err(val.span, m),
                                    None => p.err(
                                        val.span,
                                        "a severity: info, low, medium, high or critical",
                                    ),
                                }
                            }
                        }
                        "rules" => {
                            for (k, val) in p.map(v) {
                                let opts = p
                                    .map(val)
                                    .into_iter()
                                    .map(|(name, v)| RuleSetting {
                                        name,
                                        value: Spanned {
                                            value: v.to_json(),
                                            span: v.span,
                                        },
                                    })
                                    .collect();
                                c.rules.push((k, opts));
                            }
                        }
                        "exclude" => {
                            c.exclude = p.strings(v).into_iter().map(|s| s.value).collect()
                        }
                        "plugins" => {
                            c.plugins = p
                                .strings(v)
                                .into_iter()
                                .map(|s| PathBuf::from(s.value))
                                .collect()
                        }
                        "fail-on" => match v.as_str().map(str::parse::<Severity>) {
                            Some(Ok(s)) => c.fail_on = Some(s),
                            Some(Err(m)) => p.err(v.span, m),
                            None => {
                                p.err(v.span, "a severity: info, low, medium, high or critical")
                            }
                        },
                        "annotation-exemptions" => match v.as_bool() {
                            Some(b) => c.annotation_exemptions = Some(b),
                            None => p.err(v.span, "`annotation-exemptions` is true or false"),
                        },
                        "kinds" => match from_node::<Vec<KindSpec>>(v) {
                            Ok(k) => c.kinds = k,
                            Err(e) => p.err(de_error_span(v, &e), format!("kinds: {}", e.message)),
                        },
                        "units" => {
                            for (k, val) in p.map(v) {
                                if k.value != "roles" {
                                    p.err(
                                        k.span,
                                        format!("unknown key `units.{}` (known: roles)", k.value),
                                    );
                                    continue;
                                }
                                for r in p.strings(val) {
                                    match r.value.parse::<crate::Role>() {
                                        Ok(role) => c.unit_roles.push(role),
                                        Err(m) => p.err(r.span, m),
                                    }
                                }
                            }
                        }
                        other => p.err(
                            e.key_span,
                            format!("unknown key `{other}` (known: {})", KEYS.join(", ")),
                        ),
                    }
                }
            }
            _ => p.err(doc.root.span, "a config file is a mapping of keys"),
        }
        if p.errors.is_empty() {
            Ok(c)
        } else {
            Err(crate::Error::Config(p.errors))
        }
    }

    /// Phase two: every rule id and category named must be known to `audit`,
    /// and every rule option one its rule declares, with a value of the
    /// declared type (see [`crate::RuleMeta::check_option`]). Run it once
    /// every rule is registered (plugin rules included).
    pub fn validate(&self, audit: &Audit) -> Vec<ConfigError> {
        let known_rule = |n: &str| audit.rule(n).is_some();
        let known_name = |n: &str| {
            audit
                .rules()
                .any(|r| r.meta().id == n || r.meta().category == n)
        };
        let mut errors = Vec::new();
        let mut err = |s: &Spanned<String>, what: &str| {
            errors.push(ConfigError {
                file: self.file.clone(),
                line: s.span.line,
                col: s.span.col,
                message: format!("unknown {what} `{}`", s.value),
            })
        };
        for s in self.select.iter().chain(&self.ignore) {
            if !known_name(&s.value) {
                err(s, "rule or category");
            }
        }
        for (s, _) in &self.severity {
            if !known_rule(&s.value) {
                err(s, "rule");
            }
        }
        let mut bad_options = Vec::new();
        for (s, opts) in &self.rules {
            let Some(rule) = audit.rule(&s.value) else {
                err(s, "rule");
                continue;
            };
            for o in opts {
                if let Err(message) = rule.meta().check_option(&o.name.value, &o.value.value) {
                    // A wrong value is pointed at; an unknown name, at the name.
                    let known = rule.meta().options.iter().any(|d| d.name == o.name.value);
                    let at = if known { o.value.span } else { o.name.span };
                    bad_options.push(ConfigError {
                        file: self.file.clone(),
                        line: at.line,
                        col: at.col,
                        message: message.to_string(),
                    });
                }
            }
        }
        errors.extend(bad_options);
        errors
    }

    /// Validates against `audit`, then configures it: selection, severity
    /// overrides, rule options and the exemption policy.
    pub fn apply(&self, audit: &mut Audit) -> crate::Result<()> {
        let errors = self.validate(audit);
        if !errors.is_empty() {
            return Err(crate::Error::Config(errors));
        }
        let names = |v: &[Spanned<String>]| v.iter().map(|s| s.value.clone()).collect::<Vec<_>>();
        if !self.select.is_empty() {
            audit.select(&names(&self.select)).expect("validated names");
        }
        audit.ignore(&names(&self.ignore)).expect("validated names");
        for (id, sev) in &self.severity {
            audit.severity.insert(id.value.clone(), *sev);
        }
        for (id, opts) in &self.rules {
            for o in opts {
                audit
                    .settings
                    .set(&id.value, &o.name.value, o.value.value.clone());
            }
        }
        if let Some(b) = self.annotation_exemptions {
            audit.suppression.exemptions = b;
        }
        Ok(())
    }

    /// The built-in kinds table extended with this config's `kinds`.
    pub fn kind_table(&self) -> KindTable {
        let mut t = KindTable::builtin().clone();
        t.add(self.kinds.clone());
        t
    }
}

/// The span of a deserialization error: the offending key for an unknown
/// field, else the node at the error's pointer.
fn de_error_span(root: &Node, e: &crate::de::DeError) -> Span {
    let field = e
        .message
        .strip_prefix("unknown field `")
        .and_then(|r| r.split('`').next());
    if let (Some(f), Some(node)) = (field, root.pointer(&e.pointer)) {
        if let Some(entry) = node.entry(f) {
            return entry.key_span;
        }
    }
    root.locate(&e.pointer)
}

struct Parser {
    file: String,
    errors: Vec<ConfigError>,
}

impl Parser {
    fn err(&mut self, span: Span, message: impl Into<String>) {
        self.errors.push(ConfigError {
            file: self.file.clone(),
            line: span.line,
            col: span.col,
            message: message.into(),
        });
    }

    /// A list of strings (a single string is accepted as a list of one).
    fn strings(&mut self, v: &Node) -> Vec<Spanned<String>> {
        let one = |n: &Node| {
            n.scalar_text().map(|s| Spanned {
                value: s,
                span: n.span,
            })
        };
        match &v.value {
            Value::Null => Vec::new(),
            Value::Seq(items) => {
                let mut out = Vec::new();
                for i in items {
                    match one(i) {
                        Some(s) => out.push(s),
                        None => self.err(i.span, "expected a string"),
                    }
                }
                out
            }
            _ => match one(v) {
                Some(s) => vec![s],
                None => {
                    self.err(v.span, "expected a list of strings");
                    Vec::new()
                }
            },
        }
    }

    /// Rule names: a list, or one comma-separated string.
    fn names(&mut self, v: &Node) -> Vec<Spanned<String>> {
        self.strings(v)
            .into_iter()
            .flat_map(|s| {
                let span = s.span;
                s.value
                    .split(',')
                    .map(str::trim)
                    .filter(|x| !x.is_empty())
                    .map(|x| Spanned {
                        value: x.to_string(),
                        span,
                    })
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    fn map<'n>(&mut self, v: &'n Node) -> Vec<(Spanned<String>, &'n Node)> {
        match &v.value {
            Value::Null => Vec::new(),
            Value::Map(entries) => entries
                .iter()
                .map(|e| {
                    (
                        Spanned {
                            value: e.key.to_string(),
                            span: e.key_span,
                        },
                        &e.value,
                    )
                })
                .collect(),
            _ => {
                self.err(v.span, "expected a mapping");
                Vec::new()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_key_points_at_its_line() {
        let e = Config::parse("c.yaml", "select: [pod-security]\nfial-on: high\n").unwrap_err();
        let e = e.config_errors();
        assert_eq!((e[0].line, e[0].col), (2, 1));
        assert!(e[0].message.contains("unknown key `fial-on`"), "{e:?}");
    }

    #[test]
    fn unknown_rule_points_at_its_line() {
        let c = Config::parse(
            "c.yaml",
            "ignore:\n  - pss-apparmor\n  - pss-nope\nseverity:\n  pss-bogus: high\n",
        )
        .unwrap();
        let e = c.validate(&Audit::new());
        assert_eq!(e.len(), 2, "{e:?}");
        assert_eq!((e[0].line, e[0].col), (3, 5));
        assert_eq!(e[1].line, 5);
    }

    /// A rule of another source (a plugin's), with the options it declares.
    struct Declared(crate::RuleMeta);
    impl crate::Rule for Declared {
        fn meta(&self) -> &crate::RuleMeta {
            &self.0
        }
    }

    /// Rule options are checked against what each rule declares, built-in
    /// and added rules alike: a value of another type is an error at the
    /// value, an unknown option at its name, and nothing is applied.
    #[test]
    fn rule_options_are_checked_at_their_line() {
        let mut audit = Audit::new();
        static OPTIONS: &[crate::RuleOption] = &[crate::RuleOption::builtin(
            "label",
            crate::OptionType::String,
            "team",
            "The label.",
        )];
        let meta = crate::RuleMeta::builtin("team-label", "tenancy", Severity::Low, "t", "# t")
            .with_options(OPTIONS);
        audit.add_rule(Box::new(Declared(meta)));
        let text = "rules:\n  image-untrusted-registry:\n    registries: ghcr.io/acme\n  rbac-wildcard-rule:\n    exmpt: [x]\n  team-label:\n    label: 42\n    lable: team\n  suppression-without-reason:\n    min-reason-length: 10\n";
        let c = Config::parse("c.yaml", text).unwrap();
        let e = c.apply(&mut audit).unwrap_err();
        let got: Vec<(u32, u32, &str)> = e
            .config_errors()
            .iter()
            .map(|e| (e.line, e.col, e.message.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (3, 17, "option `registries` of rule `image-untrusted-registry` takes a list of strings, not \"ghcr.io/acme\""),
                (5, 5, "rule `rbac-wildcard-rule` has no option `exmpt` (its options: exempt)"),
                (7, 12, "option `label` of rule `team-label` takes a string, not 42"),
                (8, 5, "rule `team-label` has no option `lable` (its options: label)"),
            ]
        );
        assert!(audit.settings.options.is_empty(), "nothing is applied");
        let ok = "rules:\n  image-untrusted-registry:\n    registries: [ghcr.io/acme]\n  team-label: {label: team}\n";
        Config::parse("c.yaml", ok)
            .unwrap()
            .apply(&mut audit)
            .unwrap();
        assert_eq!(audit.settings.options.len(), 2);
    }

    /// Options set through the library without a check are not dropped
    /// silently: the report carries an error for each that no rule declares
    /// or whose type is wrong.
    #[test]
    fn unchecked_options_are_errors_in_the_report() {
        let mut audit = Audit::new();
        audit
            .set_option(
                "image-untrusted-registry",
                "registries",
                serde_json::json!("x"),
            )
            .unwrap_err();
        audit
            .set_option(
                "image-untrusted-registry",
                "registry",
                serde_json::json!(["x"]),
            )
            .unwrap_err();
        audit.settings.set(
            "image-untrusted-registry",
            "registries",
            serde_json::json!("ghcr.io/acme"),
        );
        let inv = crate::Inventory::new(crate::Loaded::default());
        let report = audit.run(&inv);
        let errors: Vec<&str> = report
            .diagnostics
            .iter()
            .map(|d| d.message.as_str())
            .collect();
        assert_eq!(
            errors,
            ["option `registries` of rule `image-untrusted-registry` takes a list of strings, not \"ghcr.io/acme\""]
        );
        assert_eq!(report.summary.errors, 1);
    }

    #[test]
    fn bad_severity_and_kinds_are_errors() {
        let e = Config::parse(
            "c.yaml",
            "fail-on: urgent\nkinds:\n  - group: x\n    kind: Y\n    podz: []\n",
        )
        .unwrap_err();
        let e = e.config_errors();
        assert_eq!(e.len(), 2, "{e:?}");
        assert_eq!(e[0].line, 1);
        assert_eq!(e[1].line, 5, "{e:?}");
    }

    #[test]
    fn documented_example_is_valid() {
        let text = include_str!("../../../docs/ml-audit.example.yaml");
        let c = Config::parse("docs/ml-audit.example.yaml", text).unwrap();
        let mut audit = Audit::new();
        c.apply(&mut audit).unwrap();
        assert_eq!(c.fail_on, Some(Severity::Medium));
        assert!(c.kind_table().get("ml.example.com", "Trainer").is_some());
        assert_eq!(audit.severity.get("pss-run-as-user"), Some(&Severity::High));
    }

    #[test]
    fn discover_walks_up() {
        let d = tempfile::tempdir().unwrap();
        let sub = d.path().join("a/b");
        std::fs::create_dir_all(&sub).unwrap();
        assert_eq!(Config::discover(&sub), None);
        std::fs::write(d.path().join(".ml-audit.yaml"), "{}\n").unwrap();
        assert_eq!(
            Config::discover(&sub),
            Some(d.path().join(".ml-audit.yaml"))
        );
    }
}
