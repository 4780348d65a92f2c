//! JSON patches (RFC 6902) on [`Node`] trees: add, remove, replace, copy,
//! move, test, with RFC 6901 pointers (`-` appends to a list).

use crate::node::{unescape, CompactString, Entry, Node, Value};

/// Applies one operation. Returns the pointer written (for the origins
/// table), or an error message.
pub(crate) fn apply_op(doc: &mut Node, op: &Node) -> Result<Option<String>, String> {
    let kind = op
        .field("op")
        .as_str()
        .ok_or("a JSON patch operation needs `op`")?;
    let path = op
        .field("path")
        .as_str()
        .ok_or("a JSON patch operation needs `path`")?;
    match kind {
        "add" => {
            let v = op.get("value").ok_or("`add` needs a value")?.clone();
            add(doc, path, v).map(Some)
        }
        "remove" => remove(doc, path).map(|_| None),
        "replace" => {
            let v = op.get("value").ok_or("`replace` needs a value")?.clone();
            if let Some(target) = get_mut(doc, path) {
                *target = v;
                return Ok(Some(path.to_string()));
            }
            // kustomize's JSON patch library (evanphx/json-patch v4)
            // replaces a missing key of an existing mapping as `add` would;
            // a missing list index or parent is an error.
            let (parent, _) = split(path)?;
            match get_mut(doc, parent).map(|p| &p.value) {
                Some(Value::Map(_)) => add(doc, path, v).map(Some),
                _ => Err(format!("path `{path}` does not exist")),
            }
        }
        "copy" | "move" => {
            let from = op
                .field("from")
                .as_str()
                .ok_or_else(|| format!("`{kind}` needs `from`"))?;
            let v = if kind == "move" {
                remove(doc, from)?
            } else {
                doc.pointer(from)
                    .ok_or_else(|| format!("path `{from}` does not exist"))?
                    .clone()
            };
            add(doc, path, v).map(Some)
        }
        "test" => {
            let want = op.get("value").map(Node::to_json).unwrap_or_default();
            let have = doc.pointer(path).map(Node::to_json);
            if have.as_ref() == Some(&want) {
                Ok(None)
            } else {
                Err(format!("test failed at `{path}`"))
            }
        }
        other => Err(format!("unknown JSON patch op `{other}`")),
    }
}

fn split(path: &str) -> Result<(&str, String), String> {
    let (parent, last) = path
        .rsplit_once('/')
        .ok_or_else(|| format!("`{path}` is not a JSON pointer"))?;
    Ok((parent, unescape(last).into_owned()))
}

fn get_mut<'a>(doc: &'a mut Node, path: &str) -> Option<&'a mut Node> {
    let mut node = doc;
    if path.is_empty() {
        return Some(node);
    }
    for token in path.strip_prefix('/')?.split('/') {
        let token = unescape(token);
        node = match &mut node.value {
            Value::Map(entries) => entries
                .iter_mut()
                .find(|e| e.key == token.as_ref())
                .map(|e| &mut e.value)?,
            Value::Seq(items) => items.get_mut(token.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(node)
}

fn add(doc: &mut Node, path: &str, value: Node) -> Result<String, String> {
    if path.is_empty() {
        *doc = value;
        return Ok(String::new());
    }
    let (parent, last) = split(path)?;
    let p = get_mut(doc, parent).ok_or_else(|| format!("path `{parent}` does not exist"))?;
    match &mut p.value {
        Value::Map(entries) => {
            if let Some(e) = entries.iter_mut().find(|e| e.key == last.as_str()) {
                e.value = value;
            } else {
                entries.push(Entry {
                    key: CompactString::from(last.as_str()),
                    key_span: value.span,
                    value,
                });
            }
            Ok(path.to_string())
        }
        Value::Seq(items) => {
            let i = if last == "-" {
                items.len()
            } else {
                last.parse::<usize>()
                    .ok()
                    .filter(|i| *i <= items.len())
                    .ok_or_else(|| format!("index `{last}` is out of range at `{parent}`"))?
            };
            items.insert(i, value);
            Ok(format!("{parent}/{i}"))
        }
        _ => Err(format!("`{parent}` is neither a mapping nor a list")),
    }
}

fn remove(doc: &mut Node, path: &str) -> Result<Node, String> {
    let (parent, last) = split(path)?;
    let p = get_mut(doc, parent).ok_or_else(|| format!("path `{parent}` does not exist"))?;
    match &mut p.value {
        Value::Map(entries) => {
            let i = entries
                .iter()
                .position(|e| e.key == last.as_str())
                .ok_or_else(|| format!("path `{path}` does not exist"))?;
            Ok(entries.remove(i).value)
        }
        Value::Seq(items) => {
            let i = last
                .parse::<usize>()
                .ok()
                .filter(|i| *i < items.len())
                .ok_or_else(|| format!("path `{path}` does not exist"))?;
            Ok(items.remove(i))
        }
        _ => Err(format!("path `{path}` does not exist")),
    }
}

#[cfg(test)]
mod tests {
    use super::apply_op;
    use crate::yaml::{parse_stream, Limits};

    fn node(text: &str) -> crate::node::Node {
        parse_stream(text, Limits::default()).0.remove(0).root
    }

    /// `replace` of a missing key of an existing mapping adds it (kubectl
    /// does); a missing parent or list index is an error.
    #[test]
    fn replace_follows_kustomizes_json_patch() {
        let mut doc = node("a:\n  b: 1\nl: [x]\n");
        let op = node("op: replace\npath: /a/c\nvalue: 2\n");
        assert_eq!(apply_op(&mut doc, &op), Ok(Some("/a/c".to_string())));
        assert_eq!(doc.field("a").field("c").as_i64(), Some(2));
        for path in ["/z/c", "/l/3"] {
            let op = node(&format!("op: replace\npath: {path}\nvalue: 2\n"));
            assert!(apply_op(&mut doc, &op).is_err(), "{path}");
        }
    }
}
