//! Errors that point into a configuration file: what is wrong, where (file, line,
//! column, with the line shown) and how to fix it, rendered the way rustc does.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A configuration file's text, kept so that later stages can point into it.
#[derive(Debug)]
pub struct SourceFile {
    /// The path as the user gave it.
    pub path: PathBuf,
    /// The whole text.
    pub text: String,
}

impl SourceFile {
    /// Wraps a file's text.
    pub fn new(path: impl Into<PathBuf>, text: impl Into<String>) -> Arc<SourceFile> {
        Arc::new(SourceFile { path: path.into(), text: text.into() })
    }

    /// The 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = floor_char_boundary(&self.text, offset.min(self.text.len()));
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let col = self.text[line_start..offset].chars().count() + 1;
        (line, col)
    }

    /// The text of a 1-based line, without its line ending.
    pub fn line_text(&self, line: usize) -> &str {
        self.text.lines().nth(line.saturating_sub(1)).unwrap_or("")
    }
}

/// The accepted name nearest `typo` when it is near enough to be a slip of the keyboard:
/// at most two edits (a swap of two neighbours counts as one), or a quarter of the name
/// for long names. Case is ignored. The one "did you mean" rule of every error message.
pub fn closest<'a>(typo: &str, names: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let typo = typo.to_lowercase();
    names
        .into_iter()
        .map(|name| (strsim::osa_distance(&typo, &name.to_lowercase()), name))
        .filter(|(distance, name)| *distance <= 2.max(name.chars().count() / 4))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, name)| name)
}

/// The help for a name that does not exist among `names`: "did you mean `x`?" when one is
/// near ([`closest`]), then what there is (`list` names them: "the tags are"), the first
/// ten. The one wording of every unknown check, tag or name, in the config and on the
/// command line alike.
pub fn suggest(wrong: &str, names: &[&str], list: &str) -> String {
    let shown: Vec<String> = names.iter().take(10).map(|n| format!("`{n}`")).collect();
    let more = if names.len() > 10 { format!(" and {} more", names.len() - 10) } else { String::new() };
    let known = format!("{list} {}{more}", shown.join(", "));
    match closest(wrong, names.iter().copied()) {
        Some(name) => format!("did you mean `{name}`? ({known})"),
        None => known,
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// One error located in a configuration file.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    source: Arc<SourceFile>,
    span: Range<usize>,
    message: String,
    help: Option<String>,
}

impl Diagnostic {
    /// An error at `span` (byte offsets into the source).
    pub fn new(source: &Arc<SourceFile>, span: Range<usize>, message: impl Into<String>) -> Diagnostic {
        Diagnostic { source: Arc::clone(source), span, message: message.into(), help: None }
    }

    /// Adds a hint that says how to fix the error.
    pub fn help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// The same error with every one of `secrets` (values that came from `${env:…}`)
    /// replaced by `***` in its message and help: a value quoted back to the person must
    /// not be a secret's.
    pub fn redacted(mut self, secrets: &[String]) -> Diagnostic {
        for secret in secrets.iter().filter(|s| !s.is_empty()) {
            self.message = self.message.replace(secret.as_str(), "***");
            self.help = self.help.map(|h| h.replace(secret.as_str(), "***"));
        }
        self
    }

    /// The message without location.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The file the error is in.
    pub fn path(&self) -> &Path {
        &self.source.path
    }

    /// The 1-based line and column where the error starts.
    pub fn line_col(&self) -> (usize, usize) {
        self.source.line_col(self.span.start)
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (line, col) = self.line_col();
        let text = self.source.line_text(line);
        let gutter = line.to_string().len();
        // Underline the span on its first line, at least one character.
        let span_chars = self
            .source
            .text
            .get(self.span.clone())
            .map_or(1, |s| s.lines().next().map_or(1, |l| l.chars().count().max(1)));
        let width = span_chars.min(text.chars().count().saturating_sub(col - 1).max(1));
        writeln!(f, "error: {}", self.message)?;
        writeln!(f, "{:gutter$}--> {}:{line}:{col}", "", self.source.path.display())?;
        writeln!(f, "{:gutter$} |", "")?;
        writeln!(f, "{line} | {text}")?;
        write!(f, "{:gutter$} | {:pad$}{}", "", "", "^".repeat(width), pad = col - 1)?;
        if let Some(help) = &self.help {
            write!(f, "\n{:gutter$} = help: {help}", "")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_file_line_column_and_the_line() {
        let src = SourceFile::new("checks.toml", "[[check]]\nname = \"a\"\ntimeout = \"5 parsecs\"\n");
        let start = src.text.find("\"5 parsecs\"").unwrap_or(0);
        let d = Diagnostic::new(&src, start..start + 11, "invalid duration").help("write \"5s\"");
        let text = d.to_string();
        assert!(text.contains("--> checks.toml:3:11"), "{text}");
        assert!(text.contains("3 | timeout = \"5 parsecs\""), "{text}");
        assert!(text.contains("^^^^^^^^^^^"), "{text}");
        assert!(text.contains("help: write \"5s\""), "{text}");
    }

    #[test]
    fn closest_finds_slips_and_ignores_strangers() {
        assert_eq!(closest("intervall", ["timeout", "interval"]), Some("interval"));
        assert_eq!(closest("expect_stauts", ["expect_status", "method"]), Some("expect_status"));
        assert_eq!(closest("Timeout", ["timeout"]), Some("timeout"));
        assert_eq!(closest("zzz", ["expect_status", "method"]), None);
        assert_eq!(closest("x", Vec::<&str>::new()), None);
    }

    #[test]
    fn suggest_names_the_nearest_and_lists_what_there_is() {
        let tags = ["database", "local", "web"];
        assert_eq!(
            suggest("databse", &tags, "the tags are"),
            "did you mean `database`? (the tags are `database`, `local`, `web`)"
        );
        assert_eq!(suggest("zzz", &tags, "the tags are"), "the tags are `database`, `local`, `web`");
        let many: Vec<String> = (0..12).map(|i| format!("check-{i}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        let text = suggest("nothing-like-it", &many, "the checks are");
        assert!(text.ends_with("`check-9` and 2 more"), "{text}");
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let src = SourceFile::new("c.toml", "name = \"é\" x");
        assert_eq!(src.line_col(src.text.len() - 1), (1, 12));
    }
}
