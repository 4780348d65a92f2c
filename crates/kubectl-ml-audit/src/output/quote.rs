//! Text from scanned files, plugins and the cluster shown to people: every
//! character that a terminal or a CI log would obey rather than show is
//! written as a visible escape, as `ls -q` and git's `core.quotePath` do.
//!
//! Escaped: C0 controls (`\t`, `\n`, `\r`, `\e` and `\u{..}` for the rest),
//! DEL, the C1 controls U+0080 to U+009F (a terminal may read U+009B as
//! CSI), the bidirectional controls that reorder what is shown (U+061C,
//! U+200E, U+200F, U+202A to U+202E, U+2066 to U+2069) and the line and
//! paragraph separators U+2028 and U+2029. So an object name cannot write
//! to the clipboard (OSC 52), clear the screen (`ESC [2J`), start a line
//! that a CI runner obeys (`\n::add-mask::`), or show a different text from
//! the one in the file.
//!
//! GitHub Actions workflow commands: the runner obeys a line that starts
//! with `::` (after blanks) and, in the legacy form, a line that holds
//! `##[` anywhere (`##[add-mask]x`, `##[error]x`). So a value that starts
//! with `::` (after blanks) shows its first `:` as `\u{3a}`, and in
//! `##[` the second `#` is shown as `\u{23}` (also a `##` at the end of a
//! value, which the text after it could complete): no value can start a
//! command, wherever the output puts it.
//!
//! Backslashes (the rule of git's quotePath, whose quotes we do not have):
//! a value with nothing to escape is shown as it is, backslashes included
//! (`a\b`). A value with something to escape, or with a backslash that
//! reads as one of the escapes above (`\\`, `\e`, `\n`, `\r`, `\t`,
//! `\u`), is shown with every backslash doubled. So the output of [`quote`]
//! reads back one way: if it holds one of those escapes, decode them all
//! (`\\` is a backslash); else it is the value itself. A name `a\eb`
//! shows as `a\\eb`, a name holding ESC as `a\eb`.
//!
//! [`quote`] is for one-line values (names, messages, file names, table
//! cells); [`quote_line`] for a source line in a snippet, where a tab stays
//! a tab (miette expands it), the line is shown as written unless it holds
//! a character to escape (YAML's own `\n` or `\\` in a double-quoted
//! scalar stays readable; in YAML a raw control character and its escape
//! mean the same value), and no line starts (a snippet line starts with
//! its number).

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether `c` is shown escaped.
pub fn needs_escape(c: char) -> bool {
    matches!(c,
        '\0'..='\u{1f}'
        | '\u{7f}'..='\u{9f}'
        | '\u{61c}'
        | '\u{200e}'
        | '\u{200f}'
        | '\u{2028}'
        | '\u{2029}'
        | '\u{202a}'..='\u{202e}'
        | '\u{2066}'..='\u{2069}')
}

/// Appends the visible escape of `c` (a character [`needs_escape`] is true of).
pub fn push_escape(out: &mut String, c: char) {
    match c {
        '\t' => out.push_str("\\t"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\u{1b}' => out.push_str("\\e"),
        c => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
}

/// `s` with every control character escaped (newlines and tabs too), and
/// no workflow command in it: one line, whatever `s` holds (see the module
/// doc for the rule).
pub fn quote(s: &str) -> Cow<'_, str> {
    escape(s, needs_escape, true)
}

/// A source line (without its newline) as a snippet shows it: like
/// [`quote`], but a tab is kept, and backslashes are doubled only when
/// something else is escaped.
pub fn quote_line(s: &str) -> Cow<'_, str> {
    escape(s, |c| c != '\t' && needs_escape(c), false)
}

/// Text of several lines (a plugin's catalogue page): each line as
/// [`quote_line`] shows it, and a line that a CI runner would read as a
/// workflow command (`::name::`, after any blanks) starts with a
/// backslash.
pub fn quote_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, line) in s.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim_start().starts_with("::") {
            out.push('\\');
        }
        out.push_str(&quote_line(line));
    }
    out
}

/// `s` [`quote`]d and padded with spaces to `width` characters.
pub fn pad(s: &str, width: usize) -> String {
    let mut q = quote(s).into_owned();
    let n = q.chars().count();
    q.extend(std::iter::repeat_n(' ', width.saturating_sub(n)));
    q
}

/// Whether the `#` at byte `i` of `s` is the second of `##[` (or of a `##`
/// that ends `s`): the legacy workflow command prefix.
fn command_hash(s: &str, i: usize) -> bool {
    let b = s.as_bytes();
    b[i] == b'#' && i > 0 && b[i - 1] == b'#' && matches!(b.get(i + 1), None | Some(b'['))
}

/// Whether a backslash at byte `i` reads as one of [`quote`]'s escapes.
fn escape_like(s: &str, i: usize) -> bool {
    matches!(
        s.as_bytes().get(i + 1),
        Some(b'\\' | b'e' | b'n' | b'r' | b't' | b'u')
    )
}

/// Escapes what `esc` selects and the workflow command prefixes; with
/// `value`, also a leading `::` and, to decide whether backslashes are
/// doubled, a backslash that reads as an escape (see the module doc).
fn escape(s: &str, esc: impl Fn(char) -> bool, value: bool) -> Cow<'_, str> {
    let lead = s.len() - s.trim_start().len();
    let command_colon = value && s[lead..].starts_with("::");
    // (Most text is ASCII without controls, `\\` or `#`: checked a byte at a
    // time.)
    let plain = s.is_ascii()
        && !s
            .bytes()
            .any(|b| b < 0x20 || b == 0x7f || b == b'\\' || b == b'#');
    if plain && !command_colon {
        return Cow::Borrowed(s);
    }
    let special = s.char_indices().any(|(i, c)| {
        esc(c) || (c == '#' && command_hash(s, i)) || (value && c == '\\' && escape_like(s, i))
    });
    if !special && !command_colon {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for (i, c) in s.char_indices() {
        if esc(c) {
            push_escape(&mut out, c);
        } else if c == '\\' {
            out.push_str("\\\\");
        } else if (c == '#' && command_hash(s, i)) || (command_colon && i == lead) {
            push_escape(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Rows as aligned columns, two spaces apart, every cell [`quote`]d; the
/// last column is not padded and lines do not end in spaces. Padding is
/// counted in characters and written by hand (a format width is limited
/// to 65,535 and panics beyond it).
pub fn table<R: AsRef<[S]>, S: AsRef<str>>(rows: &[R]) -> String {
    let quoted: Vec<Vec<Cow<'_, str>>> = rows
        .iter()
        .map(|r| r.as_ref().iter().map(|c| quote(c.as_ref())).collect())
        .collect();
    let columns = quoted.iter().map(Vec::len).max().unwrap_or(0);
    let mut width = vec![0usize; columns];
    for r in &quoted {
        for (i, c) in r.iter().enumerate() {
            width[i] = width[i].max(c.chars().count());
        }
    }
    let mut out = String::new();
    for r in &quoted {
        let start = out.len();
        for (i, c) in r.iter().enumerate() {
            out.push_str(c);
            if i + 1 < r.len() {
                let pad = width[i] - c.chars().count() + 2;
                out.extend(std::iter::repeat_n(' ', pad));
            }
        }
        let kept = out[start..].trim_end().len();
        out.truncate(start + kept);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_become_visible_escapes() {
        assert_eq!(quote("plain-name"), "plain-name");
        assert!(matches!(quote("plain"), Cow::Borrowed(_)));
        assert_eq!(
            quote("a\x1b]52;c;aGk=\x07b\x1b[2J"),
            "a\\e]52;c;aGk=\\u{7}b\\e[2J"
        );
        assert_eq!(quote("x\n::add-mask::y\r"), "x\\n::add-mask::y\\r");
        assert_eq!(quote("\u{9b}31m\u{7f}"), "\\u{9b}31m\\u{7f}");
        assert_eq!(quote("a\u{202e}b\u{2066}"), "a\\u{202e}b\\u{2066}");
        assert_eq!(quote("t\tt"), "t\\tt");
        assert_eq!(quote_line("t\tt\x1b"), "t\tt\\e");
        // Printable text outside ASCII is kept.
        assert_eq!(quote("é漢字 ⚠"), "é漢字 ⚠");
    }

    #[test]
    fn no_value_starts_a_workflow_command() {
        // `::` at the start of a value (after blanks), wherever the value
        // is put; in the middle it is no command.
        assert_eq!(quote("::error::x"), "\\u{3a}:error::x");
        assert_eq!(
            quote(" \u{3000}::warning::x"),
            " \u{3000}\\u{3a}:warning::x"
        );
        assert_eq!(quote("a::b"), "a::b");
        assert!(matches!(quote("a::b"), Cow::Borrowed(_)));
        // The legacy `##[`, anywhere, and a `##` the next text could
        // complete.
        assert_eq!(quote("x\n##[add-mask]y"), "x\\n#\\u{23}[add-mask]y");
        assert_eq!(quote("##[error]z"), "#\\u{23}[error]z");
        assert_eq!(quote("###[x"), "##\\u{23}[x");
        assert_eq!(quote("tail##"), "tail#\\u{23}");
        assert_eq!(quote("#1 #[x] a#"), "#1 #[x] a#");
        assert_eq!(quote_line("# ##[add-mask]x"), "# #\\u{23}[add-mask]x");
        assert_eq!(
            quote_text("a\n##[group]b\n ::x::y"),
            "a\n#\\u{23}[group]b\n\\ ::x::y"
        );
        for s in ["::a", "\t::a", "##[a", "b\n##[a", "\r\n::a", "\u{2028}::a"] {
            for q in [quote(s), Cow::Owned(quote_text(s))] {
                for line in q.lines() {
                    assert!(
                        !line.trim_start().starts_with("::") && !line.contains("##["),
                        "{s:?}: {q:?}"
                    );
                }
            }
            // (A snippet line starts with its number: only `##[` counts.)
            assert!(!quote_line(s).contains("##["), "{s:?}");
        }
    }

    #[test]
    fn backslashes_read_back_one_way() {
        // Nothing to escape: shown as it is.
        assert_eq!(quote(r"a\b"), r"a\b");
        assert_eq!(quote(r"C:\Users\x"), r"C:\Users\x");
        assert!(matches!(quote(r"a\b"), Cow::Borrowed(_)));
        // A backslash that reads as an escape: every backslash doubled.
        assert_eq!(quote(r"a\eb"), r"a\\eb");
        assert_eq!(quote("a\u{1b}b"), r"a\eb");
        assert_eq!(quote(r"\\"), r"\\\\");
        assert_eq!(quote(r"x\u{7}"), r"x\\u{7}");
        assert_eq!(quote(r"p\n"), r"p\\n");
        // Something else to escape: every backslash doubled.
        assert_eq!(quote("a\\b\u{7}"), r"a\\b\u{7}");
        // Source lines: as written unless a character is escaped.
        assert_eq!(
            quote_line(r#"command: ["echo \"a\nb\\"]"#),
            r#"command: ["echo \"a\nb\\"]"#
        );
        assert_eq!(quote_line("x: \"\\n\u{1b}\""), r#"x: "\\n\e""#);
        // Different values never show the same.
        let values = [
            "a\u{1b}b",
            r"a\eb",
            r"a\\eb",
            "a\\\u{1b}b",
            "a\nb",
            r"a\nb",
            r"a\\nb",
            "a\\\nb",
        ];
        let shown: std::collections::BTreeSet<String> =
            values.iter().map(|v| quote(v).into_owned()).collect();
        assert_eq!(shown.len(), values.len(), "{shown:?}");
        for v in values {
            assert_eq!(unquote(&quote(v)), v);
        }
    }

    /// Reads [`quote`]'s output back, as the module doc says.
    fn unquote(q: &str) -> String {
        let escaped = ["\\\\", "\\e", "\\n", "\\r", "\\t", "\\u{"]
            .iter()
            .any(|e| q.contains(e));
        if !escaped {
            return q.to_string();
        }
        let mut out = String::new();
        let mut it = q.chars();
        while let Some(c) = it.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            match it.next() {
                Some('\\') => out.push('\\'),
                Some('e') => out.push('\u{1b}'),
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some('t') => out.push('\t'),
                Some('u') => {
                    let hex: String = it.by_ref().skip(1).take_while(|&c| c != '}').collect();
                    out.push(char::from_u32(u32::from_str_radix(&hex, 16).unwrap()).unwrap());
                }
                other => panic!("{q:?}: backslash then {other:?}"),
            }
        }
        out
    }

    #[test]
    fn every_escaped_output_is_free_of_controls() {
        for c in (0u32..0x3000).filter_map(char::from_u32) {
            let s = format!("a{c}b");
            let q = quote(&s);
            assert!(!q.chars().any(needs_escape), "{c:?}");
            assert!(!q.chars().any(char::is_control), "{c:?}");
        }
    }

    #[test]
    fn tables_pad_by_characters_and_quote_cells() {
        let rows = vec![
            vec!["A".to_string(), "B".into(), "C".into()],
            vec!["é\n".to_string(), "".into(), "x".into()],
        ];
        assert_eq!(table(&rows), "A    B  C\né\\n     x\n");
        // A cell wider than a format width may be.
        let wide = "w".repeat(70_000);
        let t = table(&[[wide.as_str(), "z"]]);
        assert_eq!(t.len(), 70_000 + 2 + 1 + 1);
    }
}
