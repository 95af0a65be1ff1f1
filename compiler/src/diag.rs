//! Diagnostics: positions in source files and how errors are shown.
//!
//! Every error the compiler finds becomes a [`Diagnostic`] holding a file
//! index and a byte range. Nothing is printed while compiling; the caller
//! collects all of them, sorts them by position and renders each as
//!
//! ```text
//! app.pvm:4:18: error: expected `int`, found `float`
//!     4 |     let x: int = 1.5;
//!       |                  ^^^
//! ```
//!
//! The first line is the machine-readable contract of LANGUAGE.md
//! (`FILE:LINE:COL: error: MESSAGE`, columns counting characters); the two
//! after it are for people. Rendering is a dozen lines, so it is done here by
//! hand rather than bending a diagnostics crate to that exact first line.

use std::fmt::Write as _;

/// Characters of a source line shown under a message; a longer line is
/// cut to a window around the error.
const SHOWN: usize = 120;

/// One error at a place in a source file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: u16,
    pub start: u32,
    pub end: u32,
    pub message: String,
}

impl Diagnostic {
    pub fn new(file: u16, start: u32, end: u32, message: impl Into<String>) -> Self {
        Diagnostic {
            file,
            start,
            end,
            message: message.into(),
        }
    }
}

/// A loaded source file: the path as it is shown in messages and its text.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub path: String,
    pub text: String,
    /// Byte offset of the start of each line.
    line_starts: Vec<u32>,
}

impl SourceFile {
    pub fn new(path: String, text: String) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i as u32 + 1));
        SourceFile { path, text, line_starts }
    }

    /// 1-based line number of a byte offset.
    pub fn line_of(&self, offset: u32) -> u32 {
        match self.line_starts.binary_search(&offset) {
            Ok(i) => i as u32 + 1,
            Err(i) => i as u32,
        }
    }

    /// 1-based (line, column); the column counts characters, not bytes.
    pub fn line_col(&self, offset: u32) -> (u32, u32) {
        let line = self.line_of(offset);
        let start = self.line_starts[(line - 1) as usize] as usize;
        let end = (offset as usize).min(self.text.len());
        let col = self.text.get(start..end).map(|s| s.chars().count()).unwrap_or(end - start);
        (line, col as u32 + 1)
    }

    /// The text of a 1-based line, without its newline.
    pub fn line_text(&self, line: u32) -> &str {
        let Some(&start) = self.line_starts.get(line.saturating_sub(1) as usize) else {
            return "";
        };
        let rest = self.text.get(start as usize..).unwrap_or("");
        rest.split('\n').next().unwrap_or("").trim_end_matches('\r')
    }

    pub fn line_count(&self) -> u32 {
        self.line_starts.len() as u32
    }
}

/// All files of one program, indexed by the `file` field of diagnostics.
#[derive(Debug, Clone, Default)]
pub struct SourceMap {
    pub files: Vec<SourceFile>,
}

impl SourceMap {
    pub fn add(&mut self, path: String, text: String) -> u16 {
        self.files.push(SourceFile::new(path, text));
        (self.files.len() - 1) as u16
    }

    pub fn file(&self, id: u16) -> &SourceFile {
        &self.files[id as usize]
    }

    /// Renders one diagnostic: the contract line, then the source line and a caret.
    pub fn render(&self, d: &Diagnostic) -> String {
        let Some(file) = self.files.get(d.file as usize) else {
            return format!("error: {}\n", d.message);
        };
        let (line, col) = file.line_col(d.start);
        let mut out = format!("{}:{}:{}: error: {}\n", file.path, line, col, d.message);
        let text = file.line_text(line);
        if !text.is_empty() {
            let (end_line, end_col) = file.line_col(d.end.max(d.start + 1));
            let width = if end_line == line {
                (end_col.saturating_sub(col)).max(1)
            } else {
                1
            };
            // A very long line is shown as a window around the column.
            let chars: Vec<char> = text.chars().collect();
            let first = (col as usize - 1).saturating_sub(SHOWN / 2).min(chars.len().saturating_sub(SHOWN));
            let last = (first + SHOWN).min(chars.len());
            let (lead, tail) = (if first > 0 { "…" } else { "" }, if last < chars.len() { "…" } else { "" });
            let shown: String = chars[first..last].iter().collect();
            let gutter = line.to_string().len();
            // Blanks up to the column (tabs kept, so the caret lines up),
            // one more for a leading `…`.
            let pad: String = lead
                .chars()
                .chain(chars[first..(col as usize - 1).min(last)].iter().copied())
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            let width = (width as usize).min(last.saturating_sub(col as usize - 1).max(1));
            let _ = writeln!(out, "{line:>gutter$} | {lead}{shown}{tail}");
            let _ = writeln!(out, "{:>gutter$} | {pad}{}", "", "^".repeat(width));
        }
        out
    }

    /// Sorts diagnostics by file and position and drops exact repeats.
    pub fn sort(&self, diags: &mut Vec<Diagnostic>) {
        diags.sort_by_key(|d| (d.file, d.start));
        diags.dedup();
    }

    /// Sorts diagnostics by file and position and renders them all.
    pub fn render_all(&self, diags: &mut Vec<Diagnostic>) -> String {
        self.sort(diags);
        diags.iter().map(|d| self.render(d)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_characters() {
        let f = SourceFile::new("a.pvm".into(), "let é = 1;\n  x".into());
        assert_eq!(f.line_col(0), (1, 1));
        assert_eq!(f.line_col(7), (1, 7)); // after "let é " (é is two bytes)
        assert_eq!(f.line_col(14), (2, 3));
        assert_eq!(f.line_text(2), "  x");
    }

    #[test]
    fn renders_contract_line_first() {
        let mut sm = SourceMap::default();
        sm.add("t.pvm".into(), "fn main() {\n    x;\n}\n".into());
        let s = sm.render(&Diagnostic::new(0, 16, 17, "boom"));
        assert!(s.starts_with("t.pvm:2:5: error: boom\n"), "{s}");
        assert!(s.contains("2 |     x;"));
    }

    #[test]
    fn long_lines_show_a_window_around_the_error() {
        let mut sm = SourceMap::default();
        let line = format!("{}x{}", "a".repeat(5000), "b".repeat(5000));
        sm.add("t.pvm".into(), line);
        let s = sm.render(&Diagnostic::new(0, 5000, 5001, "here"));
        assert!(s.starts_with("t.pvm:1:5001: error: here\n"), "{s}");
        let lines: Vec<&str> = s.lines().collect();
        assert!(
            lines[1].len() < 200 && lines[1].contains("…aaa") && lines[1].contains("x"),
            "{}",
            lines[1]
        );
        // The caret is under the x.
        let x_at = lines[1].chars().position(|c| c == 'x').expect("x shown");
        assert_eq!(lines[2].chars().position(|c| c == '^'), Some(x_at));
    }
}
