//! The one error type of the core: what its fallible public functions
//! return. Messages say what is wrong and where; they never tell the user
//! to run a command (front ends add their own hints).

use crate::config::ConfigError;

/// An error of the core library.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A name given to [`crate::Audit::select`] or [`crate::Audit::ignore`]
    /// that is neither a rule id nor a category.
    #[error("unknown rule or category `{0}`")]
    UnknownRule(String),
    /// A config file that cannot be read, is not valid, or names unknown
    /// rules: every problem, each at its file, line and column.
    #[error("{}", join_lines(.0))]
    Config(Vec<ConfigError>),
    /// An option given to a rule that the rule does not declare, or a value
    /// of the wrong type (see [`crate::RuleMeta::check_option`]).
    #[error("{0}")]
    RuleOption(String),
    /// A reachability selector or port that cannot be parsed (see
    /// [`crate::netpol::Query::parse`]).
    #[error("{0}")]
    Reach(String),
    /// A baseline file that cannot be read or written, or is not a
    /// baseline.
    #[error("{0}")]
    Baseline(String),
    /// A kinds table (the `kinds.yaml` shape) that cannot be parsed.
    #[error("{0}")]
    Kinds(String),
}

fn join_lines(errors: &[ConfigError]) -> String {
    errors
        .iter()
        .map(ConfigError::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

impl Error {
    /// The config errors, each at its place (empty for other errors).
    pub fn config_errors(&self) -> &[ConfigError] {
        match self {
            Error::Config(v) => v,
            _ => &[],
        }
    }
}

/// The core's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
