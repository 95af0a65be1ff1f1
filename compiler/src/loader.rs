//! Reading a program's files and following its imports.
//!
//! Starting from the entry file, every `import "p";` is resolved: `std/...`
//! names a standard module compiled into pvm ([`pvm_stdlib::module_source`]),
//! anything else is handed to a [`Resolver`], by default [`FsResolver`],
//! which reads it relative to the importing file. A file is read and parsed
//! once: a file imported twice, or through two paths of a diamond, is the
//! same file (same [`Resolved::key`]). A depth-first walk detects cycles and
//! yields the files in dependency order: a file comes after everything it
//! imports, which is exactly the order in which globals are initialised.

use crate::ast::{File, Item};
use crate::diag::{Diagnostic, SourceMap};
use crate::parse::parse_file;
use bumpalo::Bump;
use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

/// Source files larger than this are refused before they are read whole.
pub const MAX_SOURCE_BYTES: u64 = 16 << 20;

/// A problem with the entry file itself (not an import): reported by the
/// CLI as a one-line error.
#[derive(Debug)]
pub struct EntryError(pub String);

/// A file an import resolved to.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// Identity: two imports with the same key are the same file.
    pub key: String,
    /// The path shown in messages and stack traces.
    pub display: String,
    pub text: String,
}

/// Where imports come from. A host that serves modules from memory
/// implements this; `pvm` itself uses [`FsResolver`].
pub trait Resolver {
    /// Resolves `import "path";` written in the file shown as `importer`.
    /// The error is the reason, shown after `cannot import "path": `.
    fn resolve(&self, importer: &str, path: &str) -> Result<Resolved, String>;
}

/// Imports are files on disk, relative to the importing file.
#[derive(Debug, Clone, Default)]
pub struct FsResolver;

impl Resolver for FsResolver {
    fn resolve(&self, importer: &str, rel: &str) -> Result<Resolved, String> {
        let display = join_display(importer, rel);
        let canon = std::fs::canonicalize(&display).map_err(|_| format!("no such file ({display})"))?;
        let text = read_source(&canon).map_err(|why| format!("{display} {why}"))?;
        Ok(Resolved {
            key: canon.to_string_lossy().into_owned(),
            display,
            text,
        })
    }
}

/// No imports at all (besides the standard modules, which are built in):
/// for source from an untrusted party, which must read no file.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoImports;

impl Resolver for NoImports {
    fn resolve(&self, _importer: &str, _path: &str) -> Result<Resolved, String> {
        Err("imports other than the standard modules are not allowed here".into())
    }
}

/// Imports are served from a table in memory, by the exact path written in
/// the import (the embedding API's `compile` with modules uses this).
#[derive(Debug, Clone, Default)]
pub struct MemoryResolver {
    pub files: HashMap<String, String>,
}

impl Resolver for MemoryResolver {
    fn resolve(&self, _importer: &str, path: &str) -> Result<Resolved, String> {
        let text = self.files.get(path).ok_or_else(|| "no such module".to_string())?;
        Ok(Resolved {
            key: path.to_string(),
            display: path.to_string(),
            text: text.clone(),
        })
    }
}

/// Reads a source file; returns an error message on failure.
pub fn read_source(path: &Path) -> Result<String, String> {
    if path.is_dir() {
        return Err("is a directory".into());
    }
    let meta = std::fs::metadata(path).map_err(|e| io_reason(&e))?;
    if !meta.is_file() {
        return Err("is not a regular file".into());
    }
    if meta.len() > MAX_SOURCE_BYTES {
        return Err(format!("is larger than the {} MiB limit for source files", MAX_SOURCE_BYTES >> 20));
    }
    let bytes = std::fs::read(path).map_err(|e| io_reason(&e))?;
    source_text(bytes)
}

/// Checks that bytes are pvm source text (UTF-8, no NUL byte). The error
/// says where the first bad byte is.
pub fn source_text(bytes: Vec<u8>) -> Result<String, String> {
    if let Some(at) = bytes.iter().position(|&b| b == 0) {
        let (line, col) = line_col(&bytes[..at]);
        return Err(format!(
            "is a binary file, not pvm source (a NUL byte at line {line}, column {col})"
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        let good = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let (line, col) = line_col(good);
        format!("is not UTF-8 text (an invalid byte at line {line}, column {col})")
    })
}

/// The 1-based line and column (in characters) just after valid UTF-8 `b`.
fn line_col(b: &[u8]) -> (usize, usize) {
    let text = String::from_utf8_lossy(b);
    let line = text.matches('\n').count() + 1;
    let col = text.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
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
    resolver: &'m dyn Resolver,
    diags: Vec<Diagnostic>,
    by_key: HashMap<String, u16>,
    files: Vec<File<'a>>,
    state: Vec<State>,
    order: Vec<u16>,
    stack: Vec<u16>,
}

/// Loads the entry file from disk and everything it imports. Lexical,
/// syntax and import errors are returned as diagnostics alongside the program.
pub fn load<'a>(
    arena: &'a Bump,
    entry: &str,
    sm: &mut SourceMap,
    resolver: &dyn Resolver,
) -> Result<(Program<'a>, Vec<Diagnostic>), EntryError> {
    let text = read_source(Path::new(entry)).map_err(|why| EntryError(format!("{entry}: {why}")))?;
    let key = std::fs::canonicalize(entry)
        .map(|c| c.to_string_lossy().into_owned())
        .unwrap_or_else(|_| entry.to_string());
    Ok(load_text(arena, entry, key, text, sm, resolver))
}

/// Loads a program whose entry file's text is already in memory; imports
/// are resolved relative to `name` by `resolver`.
pub fn load_str<'a>(
    arena: &'a Bump,
    name: &str,
    text: &str,
    sm: &mut SourceMap,
    resolver: &dyn Resolver,
) -> (Program<'a>, Vec<Diagnostic>) {
    load_text(arena, name, name.to_string(), text.to_string(), sm, resolver)
}

fn load_text<'a>(
    arena: &'a Bump,
    name: &str,
    key: String,
    text: String,
    sm: &mut SourceMap,
    resolver: &dyn Resolver,
) -> (Program<'a>, Vec<Diagnostic>) {
    let mut l = Loader {
        arena,
        sm,
        resolver,
        diags: Vec::new(),
        by_key: HashMap::new(),
        files: Vec::new(),
        state: Vec::new(),
        order: Vec::new(),
        stack: Vec::new(),
    };
    let id = l.add(name.to_string(), text, key);
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
    /// Parses a file and registers it under its identity key.
    fn add(&mut self, display: String, text: String, key: String) -> u16 {
        let id = self.sm.add(display, text);
        self.by_key.insert(key, id);
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
            let err = |msg: String| Diagnostic::new(id, span.start, span.end, msg);
            let found = match pvm_stdlib::module_source(rel) {
                Some(text) => Ok(Resolved {
                    key: format!("<{rel}>"),
                    display: rel.to_string(),
                    text: text.to_string(),
                }),
                None if rel.starts_with("std/") => Err("there is no such standard module".to_string()),
                None => self.resolver.resolve(&self.sm.file(id).path, rel),
            };
            let file = match found {
                Ok(f) => f,
                Err(why) => {
                    self.diags.push(err(format!("cannot import \"{rel}\": {why}")));
                    continue;
                }
            };
            if self.sm.files.len() >= u16::MAX as usize {
                self.diags.push(err(format!(
                    "cannot import \"{rel}\": the program has more than {} files",
                    u16::MAX
                )));
                continue;
            }
            if let Some(&other) = self.by_key.get(&file.key) {
                if self.state[other as usize] == State::Visiting {
                    let pos = self.stack.iter().position(|&f| f == other).unwrap_or(0);
                    let mut chain: Vec<String> = self.stack[pos..].iter().map(|&f| self.sm.file(f).path.clone()).collect();
                    chain.push(self.sm.file(other).path.clone());
                    self.diags.push(err(format!("import cycle: {}", chain.join(" -> "))));
                }
                continue;
            }
            let new_id = self.add(file.display, file.text, file.key);
            self.visit(new_id);
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
