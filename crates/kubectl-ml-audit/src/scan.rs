//! `kubectl ml-audit scan`: inputs (paths, stdin, `-k`, `--cluster`), the
//! config file, suppressions, baselines, and the output formats.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use ml_audit::baseline;
use ml_audit::config::Config;
use ml_audit::{Audit, Input, Inventory, LoadOptions, Report, Severity};

use crate::kube::{cluster, kustomize_text, ClusterArgs};
use crate::output;
use crate::{emit, usage_error};

/// Output formats of `scan`.
#[derive(Copy, Clone, Debug, ValueEnum, PartialEq, Eq)]
pub enum Format {
    /// For people: each finding with its source lines.
    Text,
    /// The stable JSON report (schemaVersion 1).
    Json,
    /// SARIF 2.1.0, for code scanning (GitHub, GitLab, IDEs).
    Sarif,
    /// JUnit XML: one test case per rule and object.
    Junit,
    /// GitHub Actions workflow commands (`::error file=...`).
    Github,
}

/// How kustomizations are read (`--render`).
#[derive(Copy, Clone, Debug, ValueEnum, PartialEq, Eq, Default)]
pub enum RenderChoice {
    /// The built-in renderer; a root it cannot build is an error.
    #[default]
    Core,
    /// The built-in renderer, and `kubectl kustomize` for a root it cannot build.
    Kubectl,
    /// No rendering: every file as written.
    None,
}

/// When to colour text output.
#[derive(Copy, Clone, Debug, ValueEnum, PartialEq, Eq, Default)]
pub enum ColorChoice {
    /// When stdout is a terminal and `NO_COLOR` is unset.
    #[default]
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// Arguments of `scan`.
#[derive(Args, Debug, Default)]
pub struct ScanArgs {
    /// Files and directories to audit (in a git work tree, a directory's files that git tracks or does not ignore; elsewhere all of them).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// A file to audit; `-` reads standard input. Repeatable.
    #[arg(short = 'f', long = "filename", value_name = "FILE")]
    pub files: Vec<String>,
    /// Render the kustomization in DIR (as `kubectl kustomize DIR` would, with the built-in renderer) and audit the result, each finding at its base, patch or kustomization line. Repeatable.
    #[arg(short = 'k', long = "kustomize", value_name = "DIR")]
    pub kustomize: Vec<PathBuf>,
    /// How kustomizations are read: `core` renders each kustomization root with the built-in renderer (a root it cannot build is an error, and its files are audited as plain files); `kubectl` does the same, but renders such a root with `kubectl kustomize` (which may fetch remote bases); `none` reads every file as written.
    #[arg(long, value_enum, value_name = "HOW", default_value = "core")]
    pub render: Option<RenderChoice>,
    /// Audit the live objects of the current cluster (read with `kubectl get -o json`).
    #[arg(long)]
    pub cluster: bool,
    /// With --cluster: the kubeconfig context to use.
    #[arg(long, value_name = "NAME", requires = "cluster")]
    pub context: Option<String>,
    /// With --cluster: the kubeconfig file to use.
    #[arg(long, value_name = "FILE", requires = "cluster")]
    pub kubeconfig: Option<PathBuf>,
    /// With --cluster: read one namespace (and cluster-scoped objects) instead of all.
    #[arg(
        short = 'n',
        long = "namespace",
        value_name = "NS",
        requires = "cluster"
    )]
    pub namespace: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Option<Format>,
    /// Exit 1 when a finding is at or above this severity [default: the config's `fail-on`, else low].
    #[arg(long, value_name = "SEVERITY")]
    pub fail_on: Option<Severity>,
    /// The config file [default: .ml-audit.yaml in the working directory or the nearest above].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Use no config file, even if one is found.
    #[arg(long, conflicts_with = "config")]
    pub no_config: bool,
    /// Report only findings whose fingerprints are not in this baseline file.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Record the fingerprints of this run's findings in FILE (and exit 0 unless the input is broken).
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,
    /// Run only these rules or categories (comma-separated; replaces the config's `select`).
    #[arg(long, value_delimiter = ',', value_name = "RULE")]
    pub select: Vec<String>,
    /// Skip these rules or categories (comma-separated; adds to the config's `ignore`).
    #[arg(long, value_delimiter = ',', value_name = "RULE")]
    pub ignore: Vec<String>,
    /// A WebAssembly rule module. Repeatable; adds to the config's `plugins`.
    #[arg(long, value_name = "FILE.wasm")]
    pub plugin: Vec<PathBuf>,
    /// Refuse the exemptions manifests grant themselves (ml-audit.io/ignore annotations and `# ml-audit: ignore` comments).
    #[arg(long)]
    pub no_annotation_exemptions: bool,
    /// Colour text output.
    #[arg(long, value_enum, value_name = "WHEN", default_value = "auto")]
    pub color: Option<ColorChoice>,
    /// Load DIR too, as context for cross-object rules (RBAC, NetworkPolicy,
    /// quota), but report only on the PATHs and files named (what the
    /// pre-commit hook does with the staged files). Repeatable.
    #[arg(long = "with-context", value_name = "DIR")]
    pub with_context: Vec<PathBuf>,
    /// No effect: hidden files and directories are always walked (`.git` never is).
    #[arg(long, hide = true)]
    pub hidden: bool,
    /// Audit every file under the PATHs, whatever git tracks or ignores
    /// (by default, in a git work tree: the files git tracks, and the
    /// untracked ones git does not ignore; `.ignore` files never count).
    #[arg(long)]
    pub no_ignore: bool,
    /// Trusted image registry or repository prefix (`registry.example.com`,
    /// `ghcr.io/acme`) for the image-untrusted-registry rule. Repeatable.
    #[arg(long = "trusted-registry", value_name = "PREFIX")]
    pub trusted_registry: Vec<String>,
    /// Set a rule option: RULE.OPTION=VALUE (VALUE is JSON, or else a
    /// string). Repeatable; wins over the config file.
    #[arg(long = "set", value_name = "RULE.OPTION=VALUE")]
    pub set: Vec<String>,
    /// Worker threads (default: one per core).
    #[arg(short = 'j', long, value_name = "N")]
    pub jobs: Option<usize>,
}

/// What the config and the flags make of a run, before any input is read.
pub struct Plan {
    /// The configured audit.
    pub audit: Audit,
    /// The config file used, if any.
    pub config: Config,
    /// The `--fail-on` threshold.
    pub fail_on: Severity,
    /// The plugins that could not be loaded: input errors of the report.
    pub plugin_errors: Vec<ml_audit::Diagnostic>,
}

/// Prints config errors, escaped: the config is trusted, but the names and
/// values an error quotes may come from the scanned tree (a plugin or
/// baseline path, a value read from a file).
pub(crate) fn print_config_errors(error: &ml_audit::Error) -> u8 {
    match error.config_errors() {
        [] => say!("error: {}", output::quote::quote(&error.to_string())),
        errors => {
            for e in errors {
                say!("error: {}", output::quote::quote(&e.to_string()));
            }
            // The core names the unknown rule; where to find the known
            // ones is the CLI's to say.
            if errors.iter().any(|e| e.message.starts_with("unknown rule")) {
                say!("hint: `kubectl ml-audit rules` lists the rules and categories");
            }
        }
    }
    2
}

/// A `--select`/`--ignore` name no rule has, with where to look.
fn unknown_rule(e: &ml_audit::Error) -> u8 {
    usage_error(&format!("{e} (see `kubectl ml-audit rules`)"))
}

/// Reads the config (phase one), validates it against the rules (phase two)
/// and applies it and the flags to a new audit.
pub fn plan(args: &ScanArgs) -> Result<Plan, u8> {
    let path = if args.no_config {
        None
    } else {
        match &args.config {
            Some(p) => Some(p.clone()),
            None => std::env::current_dir()
                .ok()
                .and_then(|d| Config::discover(&d)),
        }
    };
    let config = match &path {
        Some(p) => Config::load(p).map_err(|e| print_config_errors(&e))?,
        None => Config::default(),
    };
    // Plugins first: their rule ids must be known when the config and the
    // flags name rules.
    let mut plugins = config.plugins.clone();
    plugins.extend(args.plugin.iter().cloned());
    // The scanned paths: a plugin cache inside one of them is refused.
    let scanned: Vec<PathBuf> = args
        .paths
        .iter()
        .chain(&args.kustomize)
        .chain(&args.with_context)
        .cloned()
        .chain(
            args.files
                .iter()
                .filter(|f| f.as_str() != "-")
                .map(PathBuf::from),
        )
        .collect();
    let (mut audit, plugin_errors) = crate::plugins::audit_or_errors(&plugins, &scanned);
    if !args.trusted_registry.is_empty() {
        audit.settings.set(
            "image-untrusted-registry",
            "registries",
            serde_json::json!(args.trusted_registry),
        );
    }
    config
        .apply(&mut audit)
        .map_err(|e| print_config_errors(&e))?;
    crate::plugins::set(&mut audit, &args.set).map_err(|e| usage_error(&e))?;
    if !args.select.is_empty() {
        audit.select(&args.select).map_err(|e| unknown_rule(&e))?;
    }
    audit.ignore(&args.ignore).map_err(|e| unknown_rule(&e))?;
    if args.no_annotation_exemptions {
        audit.suppression.exemptions = false;
    }
    let fail_on = args.fail_on.or(config.fail_on).unwrap_or(Severity::Low);
    Ok(Plan {
        audit,
        config,
        fail_on,
        plugin_errors,
    })
}

fn progress(on: bool, msg: &str) {
    if on {
        crate::to_stderr(format_args!("\r\x1b[2Kml-audit: {msg}"));
    }
}

/// Runs `scan`.
pub fn run(args: ScanArgs) -> u8 {
    if let Some(n) = args.jobs {
        if let Err(e) = rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global()
        {
            return usage_error(&format!("cannot set {n} threads: {e}"));
        }
    }
    let Plan {
        audit,
        config,
        fail_on,
        plugin_errors,
    } = match plan(&args) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let format = args.format.unwrap_or(Format::Text);
    let show_progress = format == Format::Text && std::io::stderr().is_terminal();
    let table = config.kind_table();
    let excluded = |p: &Path| {
        let s = p.to_string_lossy();
        config.exclude.iter().any(|x| s.contains(x.as_str()))
    };
    let mut inputs: Vec<Input> = args
        .paths
        .iter()
        .filter(|p| p.is_dir() || !excluded(p))
        .cloned()
        .map(Input::Path)
        .collect();
    match crate::file_inputs(&args.files) {
        Ok(more) => inputs.extend(more),
        Err(e) => return usage_error(&e),
    }
    for dir in &args.kustomize {
        if ml_audit::kustomization_file(dir).is_none() {
            return usage_error(&format!(
                "-k {}: no kustomization.yaml, kustomization.yml or Kustomization in this directory",
                output::quote::quote(&dir.to_string_lossy())
            ));
        }
        inputs.push(Input::Path(dir.clone()));
    }
    if args.cluster {
        progress(show_progress, "reading the cluster with kubectl get");
        let cluster_args = ClusterArgs {
            kubeconfig: args.kubeconfig.clone(),
            context: args.context.clone(),
            namespace: args.namespace.clone(),
        };
        match cluster(&cluster_args, &table) {
            Ok(i) => inputs.push(i),
            Err(e) => {
                progress(show_progress, "");
                return usage_error(&e);
            }
        }
    }
    if inputs.is_empty() {
        return usage_error(
            "nothing to audit: give a PATH, -f FILE, -f -, -k DIR or --cluster (see --help)",
        );
    }
    let reported: Vec<PathBuf> = if args.with_context.is_empty() {
        Vec::new()
    } else {
        let named = args.paths.iter().cloned().chain(
            args.files
                .iter()
                .filter(|f| f.as_str() != "-")
                .map(PathBuf::from),
        );
        named
            .map(|p| std::fs::canonicalize(&p).unwrap_or(p))
            .collect()
    };
    inputs.extend(args.with_context.iter().cloned().map(Input::Path));
    progress(show_progress, &format!("reading {} inputs", inputs.len()));
    let render = args.render.unwrap_or_default();
    let opts = LoadOptions {
        exclude: config.exclude.clone(),
        no_ignore: args.no_ignore,
        render: if render == RenderChoice::None {
            ml_audit::Render::Off
        } else {
            ml_audit::Render::Units
        },
        fallback: (render == RenderChoice::Kubectl).then_some(kustomize_text as fn(&Path) -> _),
        roles: config.unit_roles.clone(),
        ..LoadOptions::default()
    };
    let stats = std::env::var_os("ML_AUDIT_STATS").is_some();
    let mut phase = Phases::new(stats);
    ml_audit::set_profiling(stats);
    let loaded = ml_audit::load(&inputs, &opts);
    phase.mark("load");
    let inventory = Inventory::with_kinds(loaded, &table);
    phase.mark("inventory");
    progress(
        show_progress,
        &format!(
            "auditing {} objects in {} files",
            inventory.objects.len(),
            inventory.files.len()
        ),
    );
    let keep = move |file: &str| {
        file == "-"
            || file.starts_with("kustomize:")
            || std::fs::canonicalize(file).is_ok_and(|c| reported.iter().any(|r| c.starts_with(r)))
    };
    let with_context = !args.with_context.is_empty();
    let mut audit = audit;
    if with_context {
        // Context files inform cross-object rules; only named inputs are
        // reported, and the rendered objects a named file helps write (a
        // staged patch, in every unit that uses it).
        audit.report_only = Some(Box::new(keep.clone()));
    }
    let mut report = audit.run(&inventory);
    phase.mark("audit");
    if show_progress {
        crate::to_stderr(format_args!("\r\x1b[2K"));
    }
    if with_context {
        report.diagnostics.retain(|d| keep(&d.file));
        report.summary.errors = report
            .diagnostics
            .iter()
            .filter(|d| d.level == ml_audit::Level::Error)
            .count();
        recount(&mut report);
    }
    crate::plugins::report_errors(&mut report, &plugin_errors);
    let known = match args
        .baseline
        .as_deref()
        .map(baseline::read_baseline)
        .transpose()
    {
        Ok(k) => k,
        Err(e) => return usage_error(&e.to_string()),
    };
    if let Some(path) = &args.write_baseline {
        let n = match baseline::write_baseline(path, &report.findings) {
            Ok(n) => n,
            Err(e) => return usage_error(&e.to_string()),
        };
        say!(
            "ml-audit: wrote {n} fingerprints to {}",
            output::quote::quote(&path.to_string_lossy())
        );
    }
    let mut baselined = 0;
    if let Some(known) = known {
        baselined = baseline::apply(&mut report, &known);
    }
    let color = match args.color.unwrap_or_default() {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => output::text::use_color(),
    };
    let ctx = output::Ctx::new(&report, &inventory, &audit, baselined, color);
    let code = if report.has_errors() {
        2
    } else if args.write_baseline.is_some() {
        0
    } else if report.fails(fail_on) {
        1
    } else {
        0
    };
    // JSON, SARIF and text are streamed: no copy of a large report in
    // memory. A write error decides the exit code (see `write_out`).
    let code = match format {
        Format::Json => crate::write_out(code, |mut w| output::json_to(&ctx, &mut w)),
        Format::Sarif => crate::write_out(code, |mut w| output::sarif::render_to(&ctx, &mut w)),
        Format::Text => crate::write_out(code, |w| output::text::render_to(&ctx, w)),
        Format::Junit => emit(&output::junit::render(&ctx), code),
        Format::Github => emit(&output::github::render(&ctx), code),
    };
    phase.mark("output");
    phase.print(inventory.objects.len(), report.findings.len());
    // The process ends next: freeing millions of tree nodes one by one would
    // only delay the exit (about half a second at 100,000 objects).
    drop(ctx);
    std::mem::forget(report);
    std::mem::forget(inventory);
    code
}

/// CPU time (user and system, all threads) this process has used, in
/// milliseconds, from `/proc/self/stat` (Linux; 0 elsewhere).
fn cpu_ms() -> u64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0;
    };
    // The command name (field 2) may hold spaces; fields after its `)`.
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
        return 0;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15, counted in clock ticks of
    // 1/100 s on Linux.
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    (ticks(11) + ticks(12)) * 10
}

/// Wall and CPU time of each phase of a scan, printed to stderr with `ML_AUDIT_STATS`.
struct Phases {
    on: bool,
    last: std::time::Instant,
    last_cpu: u64,
    done: Vec<(&'static str, u128, u64, u64)>,
}

impl Phases {
    fn new(on: bool) -> Self {
        Phases {
            on,
            last: std::time::Instant::now(),
            last_cpu: if on { cpu_ms() } else { 0 },
            done: Vec::new(),
        }
    }
    fn mark(&mut self, name: &'static str) {
        if self.on {
            let now = std::time::Instant::now();
            let rss = crate::rss_kb("VmRSS:").unwrap_or(0) / 1024;
            let cpu = cpu_ms();
            let spent = cpu.saturating_sub(self.last_cpu);
            self.done
                .push((name, (now - self.last).as_millis(), spent, rss));
            self.last = now;
            self.last_cpu = cpu;
        }
    }
    fn print(&self, objects: usize, findings: usize) {
        if self.on {
            let parts: Vec<String> = self
                .done
                .iter()
                .map(|(n, ms, cpu, mb)| format!("{n}_ms={ms} cpu_ms={cpu} rss_mb={mb}"))
                .collect();
            say!(
                "ml-audit-phases: objects={objects} findings={findings} {}",
                parts.join(" ")
            );
            let mut rules = ml_audit::profile();
            rules.sort_by_key(|r| std::cmp::Reverse(r.1));
            let rules: Vec<String> = rules
                .iter()
                .filter(|(_, t)| t.as_millis() > 0)
                .map(|(id, t)| format!("{id}={}", t.as_millis()))
                .collect();
            say!("ml-audit-rules-ms: {}", rules.join(" "));
        }
    }
}

fn recount(report: &mut Report) {
    report.summary.findings.clear();
    for f in &report.findings {
        *report.summary.findings.entry(f.severity).or_default() += 1;
    }
}
