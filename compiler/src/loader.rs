//! Reading a program's files and following its imports.
//!
//! Starting from the file named on the command line, every `import "p";` is
//! resolved relative to the importing file, read and parsed once (a file
//! imported twice, or through two paths of a diamond, is the same file). A
//! depth-first walk detects cycles and yields the files in dependency
//! order: a file comes after everything it imports, which is exactly the
//! order in which globals are initialised.

use crate::ast::{File, Item};
use crate::diag::{Diagnostic, SourceMap};
use crate::parse::parse_file;
use bumpalo::Bump;
use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

/// A problem with the file named on the command line itself (not an import):
/// reported by the CLI as a one-line error.
#[derive(Debug)]
pub struct EntryError(pub String);

/// Reads a source file; returns an error message on failure.
pub fn read_source(path: &Path) -> Result<String, String> {
    if path.is_dir() {
        return Err("is a directory".into());
    }
    let bytes = std::fs::read(path).map_err(|e| io_reason(&e))?;
    if bytes.contains(&0) {
        return Err("is a binary file, not pvm source".into());
    }
    String::from_utf8(bytes).map_err(|_| "is not UTF-8 text".into())
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

/// Joins an import path to the directory of the importing file's display path
/// and removes `.` and `..` components lexically.
fn join_display(importer: &str, rel: &str) -> String {
    let base = Path::new(importer).parent().unwrap_or(Path::new(""));
    let mut out = PathBuf::new();
    for c in base.join(rel).components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out.to_string_lossy().into_owned()
}

pub struct Program<'a> {
    /// Parsed files by file id.
    pub files: Vec<File<'a>>,
    /// File ids in dependency order (imports before importers).
    pub order: Vec<u16>,
}

#[derive(PartialEq)]
enum State {
    Visiting,
    Done,
}

struct Loader<'a, 'm> {
    arena: &'a Bump,
    sm: &'m mut SourceMap,
    diags: Vec<Diagnostic>,
    by_canon: HashMap<PathBuf, u16>,
    files: Vec<File<'a>>,
    state: Vec<State>,
    order: Vec<u16>,
    stack: Vec<u16>,
}

/// Loads the entry file and everything it imports. Lexical, syntax and
/// import errors are returned as diagnostics alongside the program.
pub fn load<'a>(arena: &'a Bump, entry: &str, sm: &mut SourceMap) -> Result<(Program<'a>, Vec<Diagnostic>), EntryError> {
    let text = read_source(Path::new(entry)).map_err(|why| EntryError(format!("{entry}: {why}")))?;
    Ok(load_text(arena, entry, text, sm))
}

/// Loads a program whose entry file's text is already in memory (imports
/// are still read from disk, relative to `name`); used by tests and embedders.
pub fn load_str<'a>(arena: &'a Bump, name: &str, text: &str, sm: &mut SourceMap) -> (Program<'a>, Vec<Diagnostic>) {
    load_text(arena, name, text.to_string(), sm)
}

fn load_text<'a>(arena: &'a Bump, name: &str, text: String, sm: &mut SourceMap) -> (Program<'a>, Vec<Diagnostic>) {
    let mut l = Loader {
        arena,
        sm,
        diags: Vec::new(),
        by_canon: HashMap::new(),
        files: Vec::new(),
        state: Vec::new(),
        order: Vec::new(),
        stack: Vec::new(),
    };
    let id = l.add(name.to_string(), text, std::fs::canonicalize(name).ok());
    l.visit(id);
    (
        Program {
            files: l.files,
            order: l.order,
        },
        l.diags,
    )
}

impl<'a> Loader<'a, '_> {
    /// Parses a file and registers it under its canonical path (when it has one).
    fn add(&mut self, display: String, text: String, canon: Option<PathBuf>) -> u16 {
        let id = self.sm.add(display, text);
        if let Some(c) = canon {
            self.by_canon.insert(c, id);
        }
        let (tree, mut d) = parse_file(self.arena, &self.sm.file(id).text, id);
        self.diags.append(&mut d);
        self.files.push(tree);
        self.state.push(State::Visiting);
        id
    }

    fn visit(&mut self, id: u16) {
        self.stack.push(id);
        let imports: Vec<(&'a str, crate::ast::Span)> = self.files[id as usize]
            .items
            .iter()
            .filter_map(|it| match it {
                Item::Import(p, s) => Some((*p, *s)),
                _ => None,
            })
            .collect();
        for (rel, span) in imports {
            let display = join_display(&self.sm.file(id).path, rel);
            let err = |msg: String| Diagnostic::new(id, span.start, span.end, msg);
            let canon = match std::fs::canonicalize(&display) {
                Ok(c) => c,
                Err(_) => {
                    self.diags.push(err(format!("cannot import \"{rel}\": no such file ({display})")));
                    continue;
                }
            };
            if let Some(&other) = self.by_canon.get(&canon) {
                if self.state[other as usize] == State::Visiting {
                    let pos = self.stack.iter().position(|&f| f == other).unwrap_or(0);
                    let mut chain: Vec<String> = self.stack[pos..].iter().map(|&f| self.sm.file(f).path.clone()).collect();
                    chain.push(self.sm.file(other).path.clone());
                    self.diags.push(err(format!("import cycle: {}", chain.join(" -> "))));
                }
                continue;
            }
            match read_source(&canon) {
                Ok(text) => {
                    let new_id = self.add(display, text, Some(canon));
                    self.visit(new_id);
                }
                Err(why) => self.diags.push(err(format!("cannot import \"{rel}\": {display} {why}"))),
            }
        }
        self.stack.pop();
        self.state[id as usize] = State::Done;
        self.order.push(id);
    }
}

#[cfg(test)]
mod tests {
    use super::join_display;

    #[test]
    fn import_paths_are_relative_to_the_importer() {
        assert_eq!(join_display("main.pvm", "lib/a.pvm"), "lib/a.pvm");
        assert_eq!(join_display("lib/a.pvm", "./b.pvm"), "lib/b.pvm");
        assert_eq!(join_display("lib/a.pvm", "../c.pvm"), "c.pvm");
        assert_eq!(join_display("/x/y/a.pvm", "b.pvm"), "/x/y/b.pvm");
    }
}
