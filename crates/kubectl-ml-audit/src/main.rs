//! `kubectl ml-audit`: the command-line front end. Argument parsing and
//! printing only; the work is done by the `ml-audit` library.

use std::io::Write;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use ml_audit::{Input, Inventory, LoadOptions, Severity};

mod output;
mod plugins;

/// Audit the Kubernetes manifests of machine-learning platforms.
#[derive(Parser, Debug)]
#[command(
    name = "kubectl-ml_audit",
    bin_name = "kubectl ml-audit",
    version,
    args_conflicts_with_subcommands = true,
    after_help = "Exit codes: 0 nothing at or above --fail-on; 1 findings at or above it; 2 usage error or unreadable input (the rest is still audited)."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    scan: ScanArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Audit manifests (the default command).
    Scan(ScanArgs),
    /// List the rules.
    Rules {
        /// Output format.
        #[arg(long, value_enum, default_value_t = ListFormat::Text)]
        format: ListFormat,
        /// Also list the rules of this WebAssembly plugin. Repeatable.
        #[arg(long = "plugin", value_name = "FILE.wasm")]
        plugins: Vec<std::path::PathBuf>,
    },
    /// Print a rule's catalogue page.
    Explain {
        /// The rule id.
        rule: String,
        /// Also know the rules of this WebAssembly plugin. Repeatable.
        #[arg(long = "plugin", value_name = "FILE.wasm")]
        plugins: Vec<std::path::PathBuf>,
    },
}

#[derive(Copy, Clone, Debug, ValueEnum, PartialEq, Eq)]
enum ListFormat {
    Text,
    Json,
}

/// Output formats of `scan`.
#[derive(Copy, Clone, Debug, ValueEnum, PartialEq, Eq)]
pub enum Format {
    /// For people: each finding with its source lines.
    Text,
    /// The stable JSON report (schemaVersion 1).
    Json,
}

/// Arguments of `scan`.
#[derive(Args, Debug, Default)]
pub struct ScanArgs {
    /// Files and directories to audit (directories are walked, .gitignore aware).
    #[arg(value_name = "PATH")]
    paths: Vec<std::path::PathBuf>,
    /// A file to audit; `-` reads standard input. Repeatable.
    #[arg(short = 'f', long = "filename", value_name = "FILE")]
    files: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Option<Format>,
    /// Exit 1 when a finding is at or above this severity.
    #[arg(long, value_name = "SEVERITY", default_value = "low")]
    fail_on: Option<Severity>,
    /// Run only these rules or categories (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "RULE")]
    select: Vec<String>,
    /// Skip these rules or categories (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "RULE")]
    ignore: Vec<String>,
    /// Worker threads (default: one per core).
    #[arg(short = 'j', long, value_name = "N")]
    jobs: Option<usize>,
    /// Load rules from this WebAssembly plugin (sandboxed). Repeatable.
    #[arg(long = "plugin", value_name = "FILE.wasm")]
    plugins: Vec<std::path::PathBuf>,
    /// Set a rule option: RULE.OPTION=VALUE (VALUE is JSON, or else a string). Repeatable.
    #[arg(long = "set", value_name = "RULE.OPTION=VALUE")]
    set: Vec<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.command {
        Some(Command::Scan(args)) => scan(args),
        None => scan(cli.scan),
        Some(Command::Rules { format, plugins }) => rules(format, &plugins),
        Some(Command::Explain { rule, plugins }) => explain(&rule, &plugins),
    };
    ExitCode::from(code)
}

/// Writes to stdout; a closed pipe (`| head`) ends quietly.
pub fn emit(text: &str) {
    let mut out = std::io::stdout().lock();
    if out
        .write_all(text.as_bytes())
        .and_then(|_| out.flush())
        .is_err()
    {
        std::process::exit(0);
    }
}

fn usage_error(msg: &str) -> u8 {
    eprintln!("error: {msg}");
    2
}

fn scan(args: ScanArgs) -> u8 {
    if let Some(n) = args.jobs {
        if let Err(e) = rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global()
        {
            return usage_error(&format!("cannot set {n} threads: {e}"));
        }
    }
    let mut audit = match plugins::audit(&args.plugins) {
        Ok(a) => a,
        Err(e) => return usage_error(&e),
    };
    if let Err(e) = plugins::set(&mut audit, &args.set) {
        return usage_error(&e);
    }
    if !args.select.is_empty() {
        if let Err(e) = audit.select(&args.select) {
            return usage_error(&e);
        }
    }
    if let Err(e) = audit.ignore(&args.ignore) {
        return usage_error(&e);
    }
    let mut inputs: Vec<Input> = args.paths.iter().cloned().map(Input::Path).collect();
    for f in &args.files {
        if f == "-" {
            let mut text = String::new();
            if let Err(e) = std::io::Read::read_to_string(&mut std::io::stdin(), &mut text) {
                return usage_error(&format!("cannot read standard input: {e}"));
            }
            inputs.push(Input::Text {
                name: "-".into(),
                text,
            });
        } else {
            inputs.push(Input::Path(f.into()));
        }
    }
    if inputs.is_empty() {
        return usage_error("nothing to audit: give a PATH, -f FILE or -f - (see --help)");
    }
    let loaded = ml_audit::load(&inputs, &LoadOptions::default());
    let inventory = Inventory::new(loaded);
    let report = audit.run(&inventory);
    match args.format.unwrap_or(Format::Text) {
        Format::Text => emit(&output::text::render(&report, &inventory)),
        Format::Json => emit(&format!(
            "{}\n",
            serde_json::to_string_pretty(&report.to_json()).unwrap_or_default()
        )),
    }
    if report.has_errors() {
        2
    } else if report.fails(args.fail_on.unwrap_or(Severity::Low)) {
        1
    } else {
        0
    }
}

fn rules(format: ListFormat, plugins: &[std::path::PathBuf]) -> u8 {
    let audit = match plugins::audit(plugins) {
        Ok(a) => a,
        Err(e) => return usage_error(&e),
    };
    let mut metas: Vec<_> = audit.rules().map(|r| r.meta().clone()).collect();
    metas.sort_by(|a, b| (&a.category, &a.id).cmp(&(&b.category, &b.id)));
    match format {
        ListFormat::Json => emit(&format!(
            "{}\n",
            serde_json::to_string_pretty(&metas).unwrap_or_default()
        )),
        ListFormat::Text => {
            let mut s = String::new();
            let w = metas.iter().map(|m| m.id.len()).max().unwrap_or(10);
            for m in &metas {
                s.push_str(&format!(
                    "{:<w$}  {:<13} {:<8}  {}\n",
                    m.id,
                    m.category,
                    m.severity.as_str(),
                    m.title
                ));
            }
            emit(&s);
        }
    }
    0
}

fn explain(id: &str, plugins: &[std::path::PathBuf]) -> u8 {
    let audit = match plugins::audit(plugins) {
        Ok(a) => a,
        Err(e) => return usage_error(&e),
    };
    match audit.rule(id) {
        Some(r) => {
            let m = r.meta();
            emit(&format!(
                "{}\n\nid: {}  category: {}  default severity: {}\n",
                m.doc.trim_end(),
                m.id,
                m.category,
                m.severity
            ));
            0
        }
        None => usage_error(&format!(
            "unknown rule `{id}` (see `kubectl ml-audit rules`)"
        )),
    }
}
