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
//! the one in the file. A backslash is kept as it is: `\e` in the output is
//! either an escape or a name that holds those two characters.
//!
//! [`quote`] is for one-line values (names, messages, file names, table
//! cells); [`quote_line`] for a source line in a snippet, where a tab stays
//! a tab (miette expands it).

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

/// `s` with every control character escaped (newlines and tabs too): one
/// line, whatever `s` holds.
pub fn quote(s: &str) -> Cow<'_, str> {
    escape_if(s, needs_escape)
}

/// A source line (without its newline) as a snippet shows it: like
/// [`quote`], but a tab is kept.
pub fn quote_line(s: &str) -> Cow<'_, str> {
    escape_if(s, |c| c != '\t' && needs_escape(c))
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

fn escape_if(s: &str, esc: impl Fn(char) -> bool) -> Cow<'_, str> {
    // (Most text is ASCII without controls: checked a byte at a time.)
    if s.is_ascii() && !s.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return Cow::Borrowed(s);
    }
    let Some(first) = s.find(&esc) else {
        return Cow::Borrowed(s);
    };
    let mut out = String::with_capacity(s.len() + 8);
    out.push_str(&s[..first]);
    for c in s[first..].chars() {
        if esc(c) {
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
