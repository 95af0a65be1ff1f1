//! What `pvm` itself reads, and what a program may read and write.
//!
//! * [`ConfinedResolver`]: imports name regular files inside the entry program's directory
//!   tree or a granted path (`--allow-read`, `--allow-write`), after resolving symlinks;
//!   anything else (absolute paths elsewhere, `..` escapes, symlinks out, devices, FIFOs,
//!   directories, oversized files) is a compile error that never shows the file's content.
//! * [`read_program`]: the entry file, which may also be a pipe (`/dev/stdin`, `<(...)`),
//!   read once and with a size cap.
//! * [`Grants`]: the `read_file`/`write_file` rules of a sandboxed run, so that a path the
//!   container does not show fails with an error naming the flag that would grant it.

use pvm_compiler::loader::{source_text, MAX_SOURCE_BYTES};
use pvm_compiler::{Resolved, Resolver};
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Component, Path, PathBuf};

/// Bytecode files larger than this are refused before they are read whole.
pub const MAX_BYTECODE_BYTES: u64 = 64 << 20;

/// Resolves imports like [`pvm_compiler::FsResolver`] (relative to the importing file), but
/// only to regular files under one of `roots`.
#[derive(Debug, Clone)]
pub struct ConfinedResolver {
    /// Canonical directories (or files) imports may come from.
    pub roots: Vec<PathBuf>,
    /// Name of an entry program that is not a file in a directory (a pipe): its imports
    /// resolve against the working directory.
    pub pipe_entry: Option<String>,
}

/// Joins an import path to the directory of the importing file's display path
/// and removes `.` and `..` components lexically (as the compiler's own resolver does).
pub fn join_display(importer: &str, rel: &str) -> String {
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

impl ConfinedResolver {
    /// Roots for the entry file `entry` (its directory, as named and as resolved) and the
    /// granted paths that exist.
    pub fn for_entry(entry: &str, is_file: bool, grants: &[PathBuf]) -> ConfinedResolver {
        let mut roots = Vec::new();
        if is_file {
            let p = Path::new(entry);
            let dir = p.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
            roots.extend(std::fs::canonicalize(dir).ok());
            if let Some(d) = std::fs::canonicalize(p).ok().and_then(|c| c.parent().map(Path::to_path_buf)) {
                if !roots.contains(&d) {
                    roots.push(d);
                }
            }
        }
        roots.extend(grants.iter().filter_map(|g| std::fs::canonicalize(g).ok()));
        ConfinedResolver {
            roots,
            pipe_entry: (!is_file).then(|| entry.to_string()),
        }
    }

    fn allowed(&self, canon: &Path) -> bool {
        self.roots.iter().any(|r| canon.starts_with(r))
    }

    fn where_allowed(&self) -> String {
        if self.pipe_entry.is_some() && self.roots.is_empty() {
            "a program read from a pipe may only import from granted paths (--allow-read PATH)".into()
        } else {
            let list: Vec<String> = self.roots.iter().map(|r| r.display().to_string()).collect();
            format!(
                "imports may only name files under {} (grant more with --allow-read PATH)",
                list.join(", ")
            )
        }
    }
}

impl Resolver for ConfinedResolver {
    fn resolve(&self, importer: &str, rel: &str) -> Result<Resolved, String> {
        let base = if self.pipe_entry.as_deref() == Some(importer) {
            ""
        } else {
            importer
        };
        let display = join_display(base, rel);
        let canon = std::fs::canonicalize(&display).map_err(|_| format!("no such file ({display})"))?;
        if !self.allowed(&canon) {
            return Err(format!("{display} is outside the program's directory; {}", self.where_allowed()));
        }
        // O_NOFOLLOW: the resolved path has no symlink, so one appearing now is a swap;
        // O_NONBLOCK: opening a FIFO must not wait for a writer.
        let f = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(&canon)
            .map_err(|e| format!("{display} {}", io_reason(&e)))?;
        // What was opened, according to the kernel, must still be inside.
        let opened = std::fs::read_link(format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&f)))
            .map_err(|e| format!("{display} {}", io_reason(&e)))?;
        if !self.allowed(&opened) {
            return Err(format!("{display} is outside the program's directory; {}", self.where_allowed()));
        }
        let meta = f.metadata().map_err(|e| format!("{display} {}", io_reason(&e)))?;
        if meta.is_dir() {
            return Err(format!("{display} is a directory"));
        }
        if !meta.is_file() {
            return Err(format!("{display} is not a regular file"));
        }
        let bytes = read_capped(f, MAX_SOURCE_BYTES).map_err(|why| format!("{display} {why}"))?;
        let text = source_text(bytes).map_err(|why| format!("{display} {why}"))?;
        Ok(Resolved {
            key: canon.to_string_lossy().into_owned(),
            display,
            text,
        })
    }
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ if e.raw_os_error() == Some(libc::ELOOP) => "is a symlink that appeared after it was resolved".into(),
        _ => e.to_string(),
    }
}

/// Reads at most `cap` bytes; more is an error.
pub fn read_capped(f: impl Read, cap: u64) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    f.take(cap + 1).read_to_end(&mut bytes).map_err(|e| io_reason(&e))?;
    if bytes.len() as u64 > cap {
        return Err(format!("is larger than the {} MiB limit", cap >> 20));
    }
    Ok(bytes)
}

/// The entry program as pvm found it.
pub enum Program {
    /// A regular file: compiled from its path (its directory is the import root).
    SourceFile,
    /// Source text read from a pipe or device.
    SourceText(String),
    /// Bytecode, read whole.
    Bytecode(Vec<u8>),
}

/// Opens the entry program once and decides what it is. Regular files are sniffed (4 bytes);
/// anything else readable (a pipe, `/dev/stdin`) is read whole, with a cap.
pub fn read_program(path: &str) -> Result<Program, String> {
    let mut f = match inherited_fd(path) {
        // The descriptor itself, not a re-open of it through /proc (a pipe made by another
        // user cannot be re-opened).
        Some(fd) => {
            // SAFETY: dup of a descriptor number; the result is owned by the File below.
            let d = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
            if d < 0 {
                return Err(io_reason(&std::io::Error::last_os_error()));
            }
            // SAFETY: d was just created by fcntl and is owned here only.
            unsafe { <File as std::os::fd::FromRawFd>::from_raw_fd(d) }
        }
        None => File::open(path).map_err(|e| io_reason(&e))?,
    };
    let meta = f.metadata().map_err(|e| io_reason(&e))?;
    if meta.is_dir() {
        return Err("is a directory".into());
    }
    let magic = pvm_bytecode::format::MAGIC;
    if meta.is_file() {
        let mut head = [0u8; 4];
        let n = f.read(&mut head).map_err(|e| io_reason(&e))?;
        if path.ends_with(".pvmc") || (n == 4 && &head == magic) {
            if meta.len() > MAX_BYTECODE_BYTES {
                return Err(format!(
                    "is larger than the {} MiB limit for bytecode files",
                    MAX_BYTECODE_BYTES >> 20
                ));
            }
            let mut bytes = head[..n].to_vec();
            bytes.extend(read_capped(f, MAX_BYTECODE_BYTES - n as u64)?);
            return Ok(Program::Bytecode(bytes));
        }
        return Ok(Program::SourceFile);
    }
    let bytes = read_capped(f, MAX_BYTECODE_BYTES.max(MAX_SOURCE_BYTES))?;
    if bytes.starts_with(magic) {
        return Ok(Program::Bytecode(bytes));
    }
    if bytes.len() as u64 > MAX_SOURCE_BYTES {
        return Err(format!("is larger than the {} MiB limit for source files", MAX_SOURCE_BYTES >> 20));
    }
    source_text(bytes).map(Program::SourceText)
}

/// The descriptor named by `/dev/stdin`, `/dev/fd/N` or `/proc/self/fd/N`.
fn inherited_fd(path: &str) -> Option<libc::c_int> {
    if path == "/dev/stdin" {
        return Some(0);
    }
    let n = path.strip_prefix("/dev/fd/").or_else(|| path.strip_prefix("/proc/self/fd/"))?;
    n.parse().ok().filter(|&n: &libc::c_int| n >= 0)
}

/// A path made absolute against `cwd`, with `.` and `..` removed lexically.
pub fn absolute(cwd: &Path, p: &str) -> PathBuf {
    let mut out = PathBuf::from("/");
    for c in cwd.join(p).components() {
        match c {
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(n) => out.push(n),
        }
    }
    out
}

/// What a sandboxed program may read and write, for messages: the container enforces it.
#[derive(Debug, Clone)]
pub struct Grants {
    pub read: Vec<PathBuf>,
    pub write: Vec<PathBuf>,
    pub cwd: PathBuf,
}

/// Paths the container provides itself: its private /tmp, /dev and /proc.
const OWN: [&str; 3] = ["/tmp", "/dev", "/proc"];

impl Grants {
    pub fn new(read: &[PathBuf], write: &[PathBuf]) -> Grants {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
        let abs = |v: &[PathBuf]| -> Vec<PathBuf> {
            v.iter()
                .flat_map(|p| {
                    let a = absolute(&cwd, &p.to_string_lossy());
                    // Both the path as named and where it leads (the container binds the latter).
                    let c = std::fs::canonicalize(p).ok();
                    std::iter::once(a).chain(c)
                })
                .collect()
        };
        Grants {
            read: abs(read),
            write: abs(write),
            cwd,
        }
    }

    /// Whether `a` is one of the container's own paths. Not the working directory, even under
    /// /tmp: a relative path means the caller's directory, which the private /tmp hides.
    fn own(&self, a: &Path) -> bool {
        let in_cwd = self.cwd != Path::new("/") && a.starts_with(&self.cwd);
        !in_cwd && OWN.iter().any(|o| a.starts_with(o))
    }

    /// Why `path` cannot be read, if it is not granted.
    pub fn check_read(&self, path: &str) -> Result<(), String> {
        let a = absolute(&self.cwd, path);
        let ok = self.read.iter().chain(&self.write).any(|g| a.starts_with(g)) || self.own(&a);
        if ok {
            Ok(())
        } else {
            Err(format!(
                "not granted to the program (run pvm with --allow-read {} to grant it)",
                a.display()
            ))
        }
    }

    /// Why `path` cannot be written, if it is not granted.
    pub fn check_write(&self, path: &str) -> Result<(), String> {
        let a = absolute(&self.cwd, path);
        if self.write.iter().any(|g| a.starts_with(g)) || self.own(&a) {
            return Ok(());
        }
        let how = if self.read.iter().any(|g| a.starts_with(g)) {
            "granted read-only"
        } else {
            "not granted to the program"
        };
        Err(format!("{how} (run pvm with --allow-write {} to let it write there)", a.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_paths() {
        let cwd = Path::new("/a/b");
        assert_eq!(absolute(cwd, "x.txt"), PathBuf::from("/a/b/x.txt"));
        assert_eq!(absolute(cwd, "../x"), PathBuf::from("/a/x"));
        assert_eq!(absolute(cwd, "/etc/../etc/passwd"), PathBuf::from("/etc/passwd"));
        assert_eq!(absolute(cwd, "../../../.."), PathBuf::from("/"));
    }

    #[test]
    fn grant_messages_name_the_flag() {
        let g = Grants {
            read: vec![PathBuf::from("/data")],
            write: vec![PathBuf::from("/out")],
            cwd: PathBuf::from("/home/u"),
        };
        assert!(g.check_read("/data/x").is_ok() && g.check_read("/out/y").is_ok() && g.check_read("/tmp/z").is_ok());
        let e = g.check_read("notes.txt").expect_err("not granted");
        assert!(e.contains("--allow-read /home/u/notes.txt"), "{e}");
        let e = g.check_write("/data/x").expect_err("read-only");
        assert!(e.contains("read-only") && e.contains("--allow-write /data/x"), "{e}");
        assert!(g.check_write("/out/y").is_ok() && g.check_write("/tmp/y").is_ok());
        assert!(g.check_read("/datax").is_err());
        // A working directory under /tmp is the caller's, not the container's private /tmp.
        let g = Grants {
            cwd: PathBuf::from("/tmp/work"),
            ..g
        };
        assert!(g.check_read("x").is_err() && g.check_write("x").is_err() && g.check_write("/tmp/other").is_ok());
    }

    #[test]
    fn imports_are_confined() {
        let dir = std::env::temp_dir().join(format!("pvm-confine-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("prog/lib")).expect("mkdir");
        std::fs::create_dir_all(dir.join("other")).expect("mkdir");
        std::fs::write(dir.join("prog/app.pvm"), "fn main() {}").expect("write");
        std::fs::write(dir.join("prog/lib/a.pvm"), "fn a() {}").expect("write");
        std::fs::write(dir.join("other/secret.pvm"), "secret text").expect("write");
        std::os::unix::fs::symlink(dir.join("other/secret.pvm"), dir.join("prog/link.pvm")).expect("symlink");
        let entry = dir.join("prog/app.pvm").to_string_lossy().into_owned();
        let r = ConfinedResolver::for_entry(&entry, true, &[]);
        assert_eq!(r.resolve(&entry, "lib/a.pvm").expect("inside").text, "fn a() {}");
        for bad in [
            "../other/secret.pvm",
            "link.pvm",
            "/etc/passwd",
            "/dev/zero",
            "lib",
            "/proc/self/environ",
        ] {
            let e = r.resolve(&entry, bad).expect_err(bad);
            assert!(!e.contains("secret text") && !e.contains("root:"), "{e}");
        }
        let granted = ConfinedResolver::for_entry(&entry, true, &[dir.join("other")]);
        assert!(granted.resolve(&entry, "../other/secret.pvm").is_ok());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
