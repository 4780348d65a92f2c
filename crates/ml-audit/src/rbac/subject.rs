//! Subjects: users, groups and ServiceAccounts, with the groups Kubernetes
//! adds implicitly.

use std::fmt;
use std::str::FromStr;

/// `system:masters`: bypasses RBAC (the authorizer allows everything).
pub const MASTERS: &str = "system:masters";
/// Every authenticated request.
pub const AUTHENTICATED: &str = "system:authenticated";
/// Every unauthenticated request.
pub const UNAUTHENTICATED: &str = "system:unauthenticated";
/// The anonymous user.
pub const ANONYMOUS: &str = "system:anonymous";
/// Every ServiceAccount.
pub const SERVICEACCOUNTS: &str = "system:serviceaccounts";

/// Who a binding grants to, or who asks.
///
/// Written `User:alice`, `Group:g` or `ServiceAccount:ns/name` (also
/// `sa:ns/name`, and the user form `User:system:serviceaccount:ns:name`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(tag = "kind")]
pub enum Subject {
    /// A user.
    User {
        /// User name.
        name: String,
    },
    /// A group.
    Group {
        /// Group name.
        name: String,
    },
    /// A ServiceAccount.
    ServiceAccount {
        /// Its namespace.
        namespace: String,
        /// Its name.
        name: String,
    },
}

impl Subject {
    /// A user (`system:serviceaccount:ns:name` becomes the ServiceAccount).
    pub fn user(name: &str) -> Subject {
        if let Some(rest) = name.strip_prefix("system:serviceaccount:") {
            if let Some((ns, n)) = rest.split_once(':') {
                if !ns.is_empty() && !n.is_empty() {
                    return Subject::sa(ns, n);
                }
            }
        }
        Subject::User {
            name: name.to_string(),
        }
    }

    /// A group.
    pub fn group(name: &str) -> Subject {
        Subject::Group {
            name: name.to_string(),
        }
    }

    /// A ServiceAccount.
    pub fn sa(namespace: &str, name: &str) -> Subject {
        Subject::ServiceAccount {
            namespace: namespace.to_string(),
            name: name.to_string(),
        }
    }

    /// The groups Kubernetes adds to this subject's requests (not the
    /// subject itself): `system:authenticated` for users (except
    /// `system:anonymous`, which gets `system:unauthenticated`), and
    /// `system:serviceaccounts` and `system:serviceaccounts:<ns>` for
    /// ServiceAccounts. Groups have none: a group is what its members share.
    pub fn implicit_groups(&self) -> Vec<Subject> {
        match self {
            Subject::User { name } if name == ANONYMOUS => vec![Subject::group(UNAUTHENTICATED)],
            Subject::User { .. } => vec![Subject::group(AUTHENTICATED)],
            Subject::Group { .. } => Vec::new(),
            Subject::ServiceAccount { namespace, .. } => vec![
                Subject::group(SERVICEACCOUNTS),
                Subject::group(&format!("{SERVICEACCOUNTS}:{namespace}")),
                Subject::group(AUTHENTICATED),
            ],
        }
    }

    /// This subject and its implicit groups: every identity a request
    /// from it carries.
    pub fn identities(&self) -> Vec<Subject> {
        let mut v = vec![self.clone()];
        v.extend(self.implicit_groups());
        v
    }

    /// Whether this is `Group:system:masters`.
    pub fn is_masters(&self) -> bool {
        matches!(self, Subject::Group { name } if name == MASTERS)
    }

    /// Whether this names everyone, or everyone authenticated
    /// (`system:anonymous`, `system:unauthenticated`, `system:authenticated`).
    pub fn is_public(&self) -> bool {
        match self {
            Subject::User { name } => name == ANONYMOUS,
            Subject::Group { name } => name == UNAUTHENTICATED || name == AUTHENTICATED,
            Subject::ServiceAccount { .. } => false,
        }
    }

    /// Whether an exemption pattern matches: the subject syntax, with a
    /// trailing `*` as a prefix wildcard (`ServiceAccount:kubeflow/*`).
    pub fn matches_pattern(&self, pattern: &str) -> bool {
        let text = self.to_string();
        match pattern.strip_suffix('*') {
            Some(prefix) => text.starts_with(prefix),
            None => Subject::from_str(pattern).is_ok_and(|p| &p == self),
        }
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::User { name } => write!(f, "User:{name}"),
            Subject::Group { name } => write!(f, "Group:{name}"),
            Subject::ServiceAccount { namespace, name } => {
                write!(f, "ServiceAccount:{namespace}/{name}")
            }
        }
    }
}

impl FromStr for Subject {
    type Err = String;
    fn from_str(s: &str) -> Result<Subject, String> {
        let bad = || {
            format!(
                "bad subject `{s}`: expected User:NAME, Group:NAME or ServiceAccount:NAMESPACE/NAME"
            )
        };
        let (kind, rest) = s.split_once(':').ok_or_else(bad)?;
        if rest.is_empty() {
            return Err(bad());
        }
        match kind.to_ascii_lowercase().as_str() {
            "user" | "u" => Ok(Subject::user(rest)),
            "group" | "g" => Ok(Subject::group(rest)),
            "serviceaccount" | "sa" => match rest.split_once('/') {
                Some((ns, n)) if !ns.is_empty() && !n.is_empty() => Ok(Subject::sa(ns, n)),
                _ => Err(bad()),
            },
            _ => Err(bad()),
        }
    }
}
