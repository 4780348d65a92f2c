//! `kubectl ml-audit render PATH`: the objects a kustomization builds, as
//! the core renders them (what `kubectl kustomize PATH` prints), before
//! any analysis.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use crate::output::quote::quote;
use crate::write_out;

/// Arguments of `render`.
#[derive(Args, Debug)]
pub struct RenderArgs {
    /// A directory holding a kustomization (kustomization.yaml,
    /// kustomization.yml or Kustomization).
    #[arg(value_name = "PATH")]
    path: PathBuf,
    /// Output format: YAML documents, or one JSON array of the objects.
    #[arg(long, value_enum, default_value_t = RenderFormat::Yaml)]
    format: RenderFormat,
}

#[derive(Copy, Clone, Debug, ValueEnum, PartialEq, Eq)]
enum RenderFormat {
    Yaml,
    Json,
}

/// Runs `render`: 0 on success, 2 when the kustomization cannot be built
/// (the cause on stderr, at its file and line).
pub fn run(args: RenderArgs) -> u8 {
    if ml_audit::kustomization_file(&args.path).is_none() {
        say!(
            "error: {}: no kustomization.yaml, kustomization.yml or Kustomization here",
            quote(&args.path.display().to_string())
        );
        return 2;
    }
    let objects = match ml_audit::render_kustomization(&args.path) {
        Ok(o) => o,
        Err(e) => {
            say!("error: {}", quote(&e.to_string()));
            return 2;
        }
    };
    let mut out = String::new();
    match args.format {
        RenderFormat::Json => {
            let all: Vec<serde_json::Value> = objects.iter().map(|o| o.node.to_json()).collect();
            out = serde_json::to_string_pretty(&all).unwrap_or_default();
            out.push('\n');
        }
        RenderFormat::Yaml => {
            for (i, o) in objects.iter().enumerate() {
                if i > 0 {
                    out.push_str("---\n");
                }
                yaml(&o.node.to_json(), 0, &mut out);
            }
        }
    }
    write_out(0, |w| w.write_all(out.as_bytes()))
}

/// A scalar as YAML: plain when it cannot be read as anything else,
/// otherwise a JSON string (a valid YAML double-quoted scalar).
fn scalar(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => {
            let plain = !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
                && !s.starts_with(['-', '.'])
                && !matches!(
                    s.to_ascii_lowercase().as_str(),
                    "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "y" | "n"
                )
                && s.parse::<f64>().is_err()
                && !s.chars().next().is_some_and(|c| c.is_ascii_digit());
            if plain {
                s.clone()
            } else {
                serde_json::to_string(s).unwrap_or_default()
            }
        }
        other => other.to_string(),
    }
}

fn is_empty_collection(v: &serde_json::Value) -> bool {
    matches!(v, serde_json::Value::Object(m) if m.is_empty())
        || matches!(v, serde_json::Value::Array(a) if a.is_empty())
}

/// Block YAML with sorted keys (as kustomize prints), at `indent` spaces.
fn yaml(v: &serde_json::Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match v {
        serde_json::Value::Object(m) => {
            for (k, val) in m {
                out.push_str(&pad);
                out.push_str(&scalar(&serde_json::Value::String(k.clone())));
                out.push(':');
                if is_empty_collection(val) || !(val.is_object() || val.is_array()) {
                    out.push(' ');
                    out.push_str(&if is_empty_collection(val) {
                        val.to_string()
                    } else {
                        scalar(val)
                    });
                    out.push('\n');
                } else {
                    out.push('\n');
                    let child = if val.is_array() { indent } else { indent + 2 };
                    yaml(val, child, out);
                }
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                out.push_str(&pad);
                out.push('-');
                if is_empty_collection(item) || !(item.is_object() || item.is_array()) {
                    out.push(' ');
                    out.push_str(&if is_empty_collection(item) {
                        item.to_string()
                    } else {
                        scalar(item)
                    });
                    out.push('\n');
                } else {
                    // The first line of the item goes after the dash.
                    let mut sub = String::new();
                    yaml(item, indent + 2, &mut sub);
                    out.push(' ');
                    out.push_str(sub.trim_start());
                }
            }
        }
        other => {
            out.push_str(&pad);
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
}
