//! [`Config`]: what the container may see and use, with defaults, and its validation into
//! the canonical paths and plans the child processes execute.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::mounts::Bind;
use crate::SandboxError;

/// What the container sees and how much it may use. Build one with [`Config::new`] and adjust
/// the public fields (they map 1:1 to `pvm run` flags).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Directory of the program file; bound read-only at the same absolute path.
    pub program_dir: PathBuf,
    /// `--allow-read PATH`: host paths bound read-only at the same path.
    pub allow_read: Vec<PathBuf>,
    /// `--allow-write PATH`: host paths bound read-write at the same path.
    pub allow_write: Vec<PathBuf>,
    /// `--tmp-size`: size of the private `/tmp` in bytes (default 64 MiB).
    pub tmp_size: u64,
    /// `--memory`: memory limit of the whole container in bytes (default 1 GiB).
    pub memory: u64,
    /// `--pids`: maximum number of processes and threads in the container (default 32).
    pub pids: u64,
    /// `--cpu-time`: CPU seconds per process (default: unlimited).
    pub cpu_time: Option<u64>,
    /// `--timeout`: wall-clock limit, enforced by the supervising parent (default: none).
    pub timeout: Option<Duration>,
    /// RLIMIT_NOFILE inside the container (default 1024).
    pub open_files: u64,
    /// RLIMIT_FSIZE inside the container, bytes (default 1 GiB).
    pub file_size: u64,
    /// Do not print the one-line warning when cgroups cannot be used (see
    /// [`Config::describe_limits`] for the same information on demand).
    pub quiet_fallback: bool,
    /// Testing knob: remount bind mounts one by one (as on kernels without mount_setattr).
    #[doc(hidden)]
    pub legacy_remount: bool,
}

impl Config {
    /// Defaults: 64 MiB /tmp, 1 GiB memory, 32 processes, no CPU or wall-clock limit, 1024 open
    /// files, 1 GiB file size.
    pub fn new(program_dir: impl Into<PathBuf>) -> Config {
        Config {
            program_dir: program_dir.into(),
            allow_read: Vec::new(),
            allow_write: Vec::new(),
            tmp_size: 64 << 20,
            memory: 1 << 30,
            pids: 32,
            cpu_time: None,
            timeout: None,
            open_files: 1024,
            file_size: 1 << 30,
            quiet_fallback: false,
            legacy_remount: false,
        }
    }

    /// Defaults for running the program file `program`: its directory (`.` for a bare file
    /// name) becomes [`Config::program_dir`].
    pub fn for_program(program: impl AsRef<Path>) -> Config {
        let dir = program
            .as_ref()
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        Config::new(dir)
    }

    /// Which limits would be in force, and how (cgroup or fallback), if `run` were called now.
    /// Probes the cgroup hierarchies by creating and removing a cgroup.
    pub fn describe_limits(&self) -> crate::LimitsReport {
        let (m, p) = crate::cgroups::probe(self.memory, self.pids.saturating_add(1));
        // SAFETY: geteuid cannot fail.
        let uid = unsafe { libc::geteuid() };
        crate::LimitsReport::build(self, &m, &p, uid)
    }

    /// Check the limits and canonicalise the paths; returns the binds, parents first.
    pub(crate) fn binds(&self) -> Result<Vec<Bind>, SandboxError> {
        let bad = |m: String| Err(SandboxError::Config(m));
        if self.memory < 4 << 20 {
            return bad(format!("memory limit {} is below the minimum of 4 MiB", self.memory));
        }
        if self.pids == 0 {
            return bad("the process limit must be at least 1".into());
        }
        if self.tmp_size < 4096 {
            return bad("the /tmp size must be at least 4 KiB".into());
        }
        if self.open_files < 16 {
            return bad("the open-files limit must be at least 16".into());
        }
        if self.cpu_time == Some(0) {
            return bad("the CPU-time limit must be at least 1 second".into());
        }
        if self.timeout == Some(Duration::ZERO) {
            return bad("the timeout must be greater than zero".into());
        }
        let dir = if self.program_dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            self.program_dir.as_path()
        };
        let mut binds = vec![Bind {
            path: canonical(dir, "program directory")?,
            writable: false,
        }];
        if !binds[0].path.is_dir() {
            return bad(format!("program directory {} is not a directory", binds[0].path.display()));
        }
        for p in &self.allow_read {
            binds.push(Bind {
                path: canonical(p, "--allow-read path")?,
                writable: false,
            });
        }
        for p in &self.allow_write {
            binds.push(Bind {
                path: canonical(p, "--allow-write path")?,
                writable: true,
            });
        }
        for b in &binds {
            if b.path == Path::new("/") {
                return bad("refusing to bind / into the container (the program directory or an --allow \
                     path is the host root); name the directories the program needs"
                    .into());
            }
            if b.path.starts_with("/proc") {
                return bad(format!("cannot bind {} : the container has its own /proc", b.path.display()));
            }
        }
        // Parents before children; a later duplicate (e.g. --allow-write of the program
        // directory) wins.
        binds.sort_by_key(|b| b.path.components().count());
        let mut out: Vec<Bind> = Vec::new();
        for b in binds {
            if let Some(prev) = out.iter_mut().find(|o| o.path == b.path) {
                prev.writable |= b.writable;
            } else {
                out.push(b);
            }
        }
        Ok(out)
    }
}

fn canonical(p: &Path, what: &str) -> Result<PathBuf, SandboxError> {
    std::fs::canonicalize(p).map_err(|e| SandboxError::Config(format!("{what} {}: {e}", p.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let c = Config::new("/tmp");
        assert_eq!(c.memory, 1 << 30);
        assert_eq!(c.tmp_size, 64 << 20);
        assert_eq!(c.pids, 32);
        assert_eq!(c.cpu_time, None);
        assert_eq!(c.timeout, None);
    }

    #[test]
    fn binds_are_canonical_and_sorted() {
        let mut c = Config::new("/usr/bin/../bin");
        c.allow_read.push("/usr".into());
        c.allow_write.push("/tmp".into());
        let b = c.binds().expect("valid");
        let paths: Vec<_> = b.iter().map(|b| b.path.to_str().unwrap_or("")).collect();
        assert_eq!(paths[..2], ["/usr", "/tmp"]);
        assert_eq!(paths[2], "/usr/bin");
        assert!(b[1].writable && !b[0].writable);
    }

    #[test]
    fn program_dir_from_file() {
        assert_eq!(Config::for_program("/a/b/app.pvm").program_dir, PathBuf::from("/a/b"));
        assert_eq!(Config::for_program("app.pvm").program_dir, PathBuf::from("."));
        assert!(Config::new("").binds().is_ok());
    }

    #[test]
    fn rejects_root_missing_and_tiny() {
        assert!(Config::new("/").binds().is_err());
        assert!(Config::new("/nonexistent-pvm-dir").binds().is_err());
        let mut c = Config::new("/tmp");
        c.memory = 1000;
        assert!(c.binds().is_err());
        let mut c = Config::new("/tmp");
        c.allow_read.push("/proc/self".into());
        assert!(c.binds().is_err());
    }
}
