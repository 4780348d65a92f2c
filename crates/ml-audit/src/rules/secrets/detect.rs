//! Recognising credentials in strings, and redacting them. Nothing here
//! ever returns the secret text itself except as byte ranges.

/// A credential found in a string: what it is and where (byte range).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit {
    /// What kind of credential (`AWS access key id`, ...).
    pub kind: &'static str,
    /// Byte offset of the secret in the string.
    pub start: usize,
    /// Byte length of the secret.
    pub len: usize,
}

fn is_tok(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+' | '/' | '=' | '.')
}

fn tokens(s: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in s.char_indices() {
        if is_tok(c) {
            start.get_or_insert(i);
        } else if let Some(st) = start.take() {
            out.push((st, &s[st..i]));
        }
    }
    if let Some(st) = start {
        out.push((st, &s[st..]));
    }
    out.into_iter()
}

fn all(s: &str, f: impl Fn(char) -> bool) -> bool {
    !s.is_empty() && s.chars().all(f)
}

fn alnum(c: char) -> bool {
    c.is_ascii_alphanumeric()
}

/// Recognised credential formats in a token (the token is trimmed of
/// trailing `=`/`.`/`/` noise by the caller).
fn token_kind(t: &str) -> Option<(&'static str, usize)> {
    let t = t.trim_start_matches(['=', '/', '+', '-', '.']);
    for p in ["AKIA", "ASIA", "ABIA", "ACCA"] {
        if let Some(rest) = t.strip_prefix(p) {
            if rest.len() >= 16
                && all(&rest[..16], |c| {
                    c.is_ascii_uppercase() || c.is_ascii_digit()
                })
                && !rest[16..].starts_with(|c: char| c.is_ascii_alphanumeric())
            {
                return Some(("AWS access key id", 20));
            }
        }
    }
    if let Some(rest) = t.strip_prefix("hf_") {
        let n = rest.chars().take_while(|c| alnum(*c)).count();
        if n >= 30 {
            return Some(("Hugging Face token", 3 + n));
        }
    }
    for p in [
        "ghp_",
        "gho_",
        "ghu_",
        "ghs_",
        "ghr_",
        "github_pat_",
        "glpat-",
    ] {
        if let Some(rest) = t.strip_prefix(p) {
            let n = rest
                .chars()
                .take_while(|c| alnum(*c) || *c == '_' || *c == '-')
                .count();
            if n >= 20 {
                return Some(("GitHub/GitLab token", p.len() + n));
            }
        }
    }
    for p in ["xoxb-", "xoxp-", "xoxa-", "xoxs-"] {
        if let Some(rest) = t.strip_prefix(p) {
            let n = rest.chars().take_while(|c| alnum(*c) || *c == '-').count();
            if n >= 20 {
                return Some(("Slack token", p.len() + n));
            }
        }
    }
    if let Some(rest) = t.strip_prefix("sk-") {
        let body: String = rest
            .chars()
            .take_while(|c| alnum(*c) || *c == '_' || *c == '-')
            .collect();
        let core = body
            .trim_start_matches("proj-")
            .trim_start_matches("ant-")
            .trim_start_matches("svcacct-");
        if core.len() >= 20
            && core.chars().any(|c| c.is_ascii_digit())
            && core.chars().any(|c| c.is_ascii_uppercase())
            && core.chars().any(|c| c.is_ascii_lowercase())
        {
            return Some(("OpenAI-style API key", 3 + body.len()));
        }
    }
    for p in ["AccountKey=", "SharedAccessKey="] {
        if let Some(rest) = t.strip_prefix(p) {
            let n = rest
                .chars()
                .take_while(|c| alnum(*c) || matches!(c, '+' | '/' | '='))
                .count();
            if n >= 40 {
                return Some(("Azure storage/shared access key", p.len() + n));
            }
        }
    }
    None
}

/// Finds recognised credentials in a string.
pub fn scan(s: &str) -> Vec<Hit> {
    let mut hits = Vec::new();
    if let Some(i) = s.find("-----BEGIN") {
        if let Some(j) = s[i..].find("PRIVATE KEY-----") {
            let end = s[i + j..]
                .find("-----END")
                .and_then(|k| s[i + j + k..].find("KEY-----").map(|m| i + j + k + m + 8))
                .unwrap_or(s.len());
            hits.push(Hit {
                kind: "private key",
                start: i,
                len: end - i,
            });
        }
    }
    if s.contains("service_account") && s.contains("\"private_key") {
        hits.push(Hit {
            kind: "GCP service-account key (JSON)",
            start: 0,
            len: s.len(),
        });
    }
    // `wandb login <40 hex>`.
    if let Some(i) = s.find("wandb login ") {
        let rest = &s[i + 12..];
        let lead = rest.len() - rest.trim_start().len();
        let key: String = rest[lead..]
            .chars()
            .take_while(|c| c.is_ascii_hexdigit())
            .collect();
        if key.len() == 40 {
            hits.push(Hit {
                kind: "Weights & Biases API key",
                start: i + 12 + lead,
                len: 40,
            });
        }
    }
    if hits.is_empty() {
        for (off, t) in tokens(s) {
            // `AccountKey=...` sits after `;` in connection strings; other
            // tokens may carry a `NAME=` prefix.
            let mut cands = vec![(off, t)];
            if let Some(eq) = t.find('=') {
                if !t.starts_with("AccountKey=") && !t.starts_with("SharedAccessKey=") {
                    cands.push((off + eq + 1, &t[eq + 1..]));
                }
            }
            for (o, c) in cands {
                let lead = c.len() - c.trim_start_matches(['=', '/', '+', '-', '.']).len();
                if let Some((kind, len)) = token_kind(c) {
                    hits.push(Hit {
                        kind,
                        start: o + lead,
                        len: len.min(c.len() - lead),
                    });
                    break;
                }
            }
        }
    }
    hits
}

/// Whether a value is a credential published for local emulators (the
/// Azurite development storage account), which protects nothing.
pub fn well_known_dev_credential(v: &str) -> bool {
    v.contains("AccountName=devstoreaccount1") || v.contains("UseDevelopmentStorage=true")
}

/// Whether a variable or flag name says it holds a secret.
pub fn secret_name(name: &str) -> bool {
    let n: String = name
        .trim_start_matches('-')
        .chars()
        .map(|c| {
            if c == '-' || c == '.' {
                '_'
            } else {
                c.to_ascii_uppercase()
            }
        })
        .collect();
    const HAS: [&str; 13] = [
        "PASSWORD",
        "PASSWD",
        "PASSPHRASE",
        "TOKEN",
        "SECRET",
        "API_KEY",
        "APIKEY",
        "ACCESS_KEY",
        "PRIVATE_KEY",
        "CREDENTIAL",
        "AUTH_KEY",
        "CLIENT_KEY",
        "SIGNING_KEY",
    ];
    const NOT_SUFFIX: [&str; 28] = [
        "_NAME",
        "_NAMESPACE",
        "_FILE",
        "_PATH",
        "_DIR",
        "_URL",
        "_URI",
        "_ENDPOINT",
        "_HEADER",
        "_ENABLED",
        "_TTL",
        "_EXPIRY",
        "_EXPIRATION",
        "_TIMEOUT",
        "_AUDIENCE",
        "_LENGTH",
        "_TYPE",
        "_REF",
        "_MOUNT",
        "_ISSUER",
        "_ID",
        "_KEY_NAME",
        "_FIELD",
        "_PROVIDER",
        "_SOURCE",
        "_LOCATION",
        "_SECONDS",
        "_DURATION",
    ];
    HAS.iter().any(|h| n.contains(h))
        && !NOT_SUFFIX.iter().any(|s| n.ends_with(s))
        && !n.contains("SECRET_NAME")
        && !n.contains("TOKEN_PATH")
}

/// Whether a literal value could be a secret (not empty, not a reference,
/// a path, a switch, a placeholder, a template).
pub fn literal_secret_value(v: &str) -> bool {
    let v = v.trim().trim_matches(['"', '\'']);
    if v.len() < 4 {
        return false;
    }
    let lower = v.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "true" | "false" | "yes" | "no" | "none" | "null" | "enabled" | "disabled"
    ) {
        return false;
    }
    if v.starts_with('/')
        || v.starts_with("$(")
        || v.starts_with("${")
        || v.starts_with("sha1:")
        || v.starts_with("argon2:")
        || v.contains("{{")
        || (v.starts_with('<') && v.ends_with('>'))
        || lower.starts_with("http://")
        || lower.starts_with("https://")
        || lower.starts_with("file://")
        || v.chars().all(|c| c.is_ascii_digit())
    {
        return false;
    }
    true
}

/// A redacted description of a secret: its length only, plus the first
/// four characters when the secret is long enough that they only name its
/// format (`AKIA…`, `hf_a…`).
pub fn redact(secret: &str) -> String {
    let n = secret.chars().count();
    if n >= 20 && !secret.contains('\n') {
        let head: String = secret.chars().take(4).collect();
        format!("`{head}…` ({n} characters, redacted)")
    } else {
        format!("({n} characters, redacted)")
    }
}

/// A redacted description of a secret that has no format prefix: its
/// length only.
pub fn redact_length(secret: &str) -> String {
    format!("({} characters, redacted)", secret.chars().count())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_formats() {
        let k = |s: &str| scan(s).into_iter().map(|h| h.kind).collect::<Vec<_>>();
        assert_eq!(k("AKIAIOSFODNN7EXAMPLE"), ["AWS access key id"]);
        assert_eq!(
            k("--key=hf_abcdefghijklmnopqrstuvwxyzABCDEFGH"),
            ["Hugging Face token"]
        );
        assert_eq!(
            k("export OPENAI_API_KEY=sk-proj-Abcdefghij1234567890KLMNOP && run"),
            ["OpenAI-style API key"]
        );
        assert!(k("sk-learn-is-a-python-package-name-here").is_empty());
        assert_eq!(
            k("wandb login 3f9a1c7e5b2d4f6a8c0e1b3d5f7a9c2e4b6d8f0b && python t.py"),
            ["Weights & Biases API key"]
        );
        assert!(k("scikit-learn==1.2 AKIA").is_empty());
        let h = scan("x AKIAIOSFODNN7EXAMPLE y");
        assert_eq!((h[0].start, h[0].len), (2, 20));
    }

    #[test]
    fn names() {
        assert!(secret_name("DB_PASSWORD"));
        assert!(secret_name("--api-key"));
        assert!(!secret_name("KFP_SECRET_NAME"));
        assert!(!secret_name("TOKEN_FILE"));
        assert!(!literal_secret_value("$(X)"));
        assert!(!literal_secret_value("/var/run/secrets/token"));
        assert!(literal_secret_value("hunter22"));
        assert!(!redact("hunter22").contains("hunt"));
    }
}
