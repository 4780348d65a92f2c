//! `kubectl ml-audit`: the command-line front end. Argument parsing and
//! printing only; the work is done by the `ml-audit` library.

use std::io::Write;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use ml_audit::{Input, Inventory, LoadOptions};

/// `eprintln!` that never panics: every line the CLI writes to stderr goes
/// through [`to_stderr`]. (`eprintln!` panics when stderr cannot be
/// written, `2>/dev/full`, and the run would end with 101 instead of the
/// exit code its findings call for.)
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::to_stderr(format_args!("{}\n", format_args!($($arg)*)))
    };
}

mod cmd_completions;
mod cmd_quota;
mod cmd_rbac;
mod cmd_reach;
mod cmd_render;
mod cmd_units;
mod kube;
mod output;
mod plugins;
mod scan;

use scan::ScanArgs;

// mimalloc: 14% fewer instructions than glibc malloc when loading the corpus
// (callgrind, `examples/parse_only` on kubeflow's pipeline manifests).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    Scan(Box<ScanArgs>),
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
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff).
    Man,
    /// Who can do VERB on RESOURCE: directly, and by escalation.
    WhoCan(cmd_rbac::WhoCanArgs),
    /// Query the RBAC privilege graph.
    Rbac {
        #[command(subcommand)]
        command: cmd_rbac::RbacCommand,
    },
    /// Which workloads can reach which, on which ports (NetworkPolicy,
    /// AdminNetworkPolicy, BaselineAdminNetworkPolicy), and what is exposed.
    Reach(cmd_reach::ReachArgs),
    /// Requested vs allowed, per namespace and Kueue queue.
    Quota(cmd_quota::QuotaArgs),
    /// What a repository deploys: kustomization roots and plain folders,
    /// their role, and what each renders from.
    Units(cmd_units::UnitsArgs),
    /// Print what a kustomization builds, as the core renders it (like
    /// `kubectl kustomize PATH`), before any analysis.
    Render(cmd_render::RenderArgs),
}

#[derive(Copy, Clone, Debug, ValueEnum, PartialEq, Eq)]
enum ListFormat {
    Text,
    Json,
}

fn main() -> ExitCode {
    let started = std::time::Instant::now();
    // No transparent huge pages. mimalloc asked for them on its arenas, and
    // every fault then zeroed 2 MiB: at 100,000 objects that was half the
    // CPU time (system 5.8 s of 12.2 s; 4.8 s without, wall 7.0 s -> 4.8 s).
    // The peak resident memory is the same, as a run touches most of what
    // it maps. mimalloc is built with `no_thp`, so it no longer asks (its
    // first pages, taken before `main`, were still huge: up to 13 ms of
    // zeroing at start); this covers kernels set to THP `always`. A failure
    // here (an old kernel) changes nothing else.
    #[cfg(target_os = "linux")]
    let _ = rustix::thread::disable_transparent_huge_pages(true);
    let cli = Cli::parse();
    let code = match cli.command {
        Some(Command::Scan(args)) => scan::run(*args),
        None => scan::run(cli.scan),
        Some(Command::Rules { format, plugins }) => rules(format, &plugins),
        Some(Command::Explain { rule, plugins }) => explain(&rule, &plugins),
        Some(Command::Completions { shell }) => cmd_completions::completions(shell, Cli::command()),
        Some(Command::Man) => cmd_completions::man(Cli::command()),
        Some(Command::WhoCan(args)) => cmd_rbac::who_can(args),
        Some(Command::Rbac { command }) => cmd_rbac::rbac(command),
        Some(Command::Reach(args)) => cmd_reach::run(args),
        Some(Command::Quota(args)) => cmd_quota::run(args),
        Some(Command::Units(args)) => cmd_units::run(args),
        Some(Command::Render(args)) => cmd_render::run(args),
    };
    if std::env::var_os("ML_AUDIT_STATS").is_some() {
        say!(
            "ml-audit-stats: wall_ms={} peak_rss_kb={}",
            started.elapsed().as_millis(),
            rss_kb("VmHWM:").unwrap_or(0)
        );
    }
    ExitCode::from(code)
}

/// Resident memory of this process (Linux), for benchmarks and tests: `VmHWM:`
/// is the peak, `VmRSS:` the current.
pub(crate) fn rss_kb(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Writes to stderr (see [`say!`]). A write error is ignored: stderr holds
/// messages for people, and the exit code, not stderr, tells CI what
/// happened; a report that cannot be written to stdout still ends the run
/// with 2 (see [`write_out`]).
pub fn to_stderr(args: std::fmt::Arguments<'_>) {
    let _ = std::io::stderr().lock().write_fmt(args);
}

/// Writes a command's output to stdout, and returns the exit code the run
/// ends with: `code` (what the findings or the input call for) once the
/// output is written, and also when the reader closed the pipe early
/// (`| head`): the reader does not decide whether the audit passed, so a
/// gate that fails still fails, and one that passes still passes, quietly.
/// Any other write error (a full disk, `/dev/full`, an I/O error) is named
/// on stderr and ends the run with 2: a report that was not written cannot
/// pass.
pub fn write_out(code: u8, write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> u8 {
    let mut w = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let written = write(&mut w).and_then(|()| w.flush());
    // Nothing more is written, even by the buffer's drop.
    let _ = w.into_parts();
    match written {
        Ok(()) => code,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => code,
        Err(e) => {
            say!("error: cannot write the output to stdout: {e}");
            2
        }
    }
}

/// Writes `text` to stdout: [`write_out`] for output rendered at once.
pub fn emit(text: &str, code: u8) -> u8 {
    write_out(code, |w| w.write_all(text.as_bytes()))
}

/// Prints a usage or input error, escaped (it may name a scanned file or
/// quote a plugin); returns exit code 2.
pub fn usage_error(msg: &str) -> u8 {
    say!("error: {}", output::quote::quote(msg));
    2
}

/// The `-f` inputs: files, and `-` for standard input.
pub(crate) fn file_inputs(files: &[String]) -> Result<Vec<Input>, String> {
    let mut inputs = Vec::new();
    for f in files {
        if f == "-" {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
                .map_err(|e| format!("cannot read standard input: {e}"))?;
            inputs.push(Input::Text {
                name: "-".into(),
                text,
            });
        } else {
            inputs.push(Input::Path(f.into()));
        }
    }
    Ok(inputs)
}

/// Loads PATHs and `-f` files (`-` is standard input) into an inventory for
/// the analysis commands (who-can, rbac, reach, quota), with the config
/// file's `kinds` and `exclude` as `scan` uses them; a usage error (exit
/// code 2) when there is nothing to read or the config is invalid.
pub(crate) fn read_inputs(paths: &[std::path::PathBuf], files: &[String]) -> Result<Inventory, u8> {
    let mut inputs: Vec<Input> = paths.iter().cloned().map(Input::Path).collect();
    inputs.extend(file_inputs(files).map_err(|e| usage_error(&e))?);
    if inputs.is_empty() {
        return Err(usage_error(
            "nothing to read: give a PATH, -f FILE or -f - (see --help)",
        ));
    }
    let config = match std::env::current_dir()
        .ok()
        .and_then(|d| ml_audit::config::Config::discover(&d))
    {
        Some(p) => ml_audit::config::Config::load(&p).map_err(|e| scan::print_config_errors(&e))?,
        None => ml_audit::config::Config::default(),
    };
    let opts = LoadOptions {
        exclude: config.exclude.clone(),
        ..LoadOptions::default()
    };
    let loaded = ml_audit::load(&inputs, &opts);
    Ok(Inventory::with_kinds(loaded, &config.kind_table()))
}

fn rules(format: ListFormat, plugins: &[std::path::PathBuf]) -> u8 {
    let audit = match plugins::audit(plugins) {
        Ok(a) => a,
        Err(e) => return usage_error(&e),
    };
    let mut metas: Vec<_> = audit.rules().map(|r| r.meta().clone()).collect();
    metas.sort_by(|a, b| (&a.category, &a.id).cmp(&(&b.category, &b.id)));
    match format {
        ListFormat::Json => emit(
            &format!(
                "{}\n",
                serde_json::to_string_pretty(&metas).unwrap_or_default()
            ),
            0,
        ),
        ListFormat::Text => {
            // Plugin metadata is shown escaped, like everything else a
            // plugin says.
            let mut s = String::new();
            let w = metas
                .iter()
                .map(|m| output::quote::quote(&m.id).chars().count())
                .max()
                .unwrap_or(10);
            for m in &metas {
                s.push_str(&format!(
                    "{}  {} {}  {}\n",
                    output::quote::pad(&m.id, w),
                    output::quote::pad(&m.category, 13),
                    output::quote::pad(m.severity.as_str(), 8),
                    output::quote::quote(&m.title)
                ));
            }
            emit(&s, 0)
        }
    }
}

fn explain(id: &str, plugins: &[std::path::PathBuf]) -> u8 {
    let audit = match plugins::audit(plugins) {
        Ok(a) => a,
        Err(e) => return usage_error(&e),
    };
    match audit.rule(id) {
        Some(r) => {
            let m = r.meta();
            // The options, unless the page already lists them as they are
            // declared (built-in pages do: a test keeps them in step).
            let options = m.options_markdown();
            let options = if options.is_empty() || m.doc.contains(&options) {
                String::new()
            } else {
                format!("\n\n{}", options.trim_end())
            };
            emit(
                &format!(
                    "{}\n\nid: {}  category: {}  default severity: {}\n",
                    output::quote::quote_text(&format!("{}{options}", m.doc.trim_end())),
                    output::quote::quote(&m.id),
                    output::quote::quote(&m.category),
                    m.severity
                ),
                0,
            )
        }
        None => usage_error(&format!(
            "unknown rule `{id}` (see `kubectl ml-audit rules`)"
        )),
    }
}
