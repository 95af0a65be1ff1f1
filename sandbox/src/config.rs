//! [`Config`]: what the container may see and use, with defaults, and its validation into
//! the plans the child processes execute. Grants (`--allow-read`, `--allow-write`) are opened
//! here, once, in the supervising process (see [`Grant`]).

use std::ffi::OsString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::SandboxError;

/// What the container sees and how much it may use. Build one with [`Config::new`] and adjust
/// the public fields (they map 1:1 to `pvm run` flags).
///
/// Nothing of the host's file system is visible inside unless it is granted: the program's own
/// files are read by the caller before [`crate::run`], so the container needs none of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `--allow-read PATH`: host paths bound read-only at the same path.
    pub allow_read: Vec<PathBuf>,
    /// `--allow-write PATH`: host paths bound read-write at the same path.
    pub allow_write: Vec<PathBuf>,
    /// The complete environment inside the container (`--env NAME[=VALUE]`); empty by default.
    pub env: Vec<(OsString, OsString)>,
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
    /// When the wall-clock limit started to count (default: when [`crate::run`] is called), for
    /// a caller that spent part of it before (loading the program).
    pub timeout_from: Option<std::time::Instant>,
    /// RLIMIT_NOFILE inside the container (default 1024).
    pub open_files: u64,
    /// RLIMIT_FSIZE inside the container, bytes (default 1 GiB).
    pub file_size: u64,
    /// Do not print the one-line warning when cgroups cannot be used (see
    /// [`Config::describe_limits`] for the same information on demand).
    pub quiet_fallback: bool,
    /// Print the fallback warning only if this file does not exist, then create it (so the
    /// warning appears once per machine and user, not on every run).
    pub warn_marker: Option<PathBuf>,
    /// Host uid/gid the program runs as when the caller is root (default 65534, `nobody`):
    /// it then reads nothing an ordinary user could not.
    pub root_maps_to: u32,
    /// Testing knob: remount bind mounts one by one (as on kernels without mount_setattr).
    #[doc(hidden)]
    pub legacy_remount: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config::new()
    }
}

/// A granted host path, opened once in the supervising process. The container binds exactly
/// this object: the child re-opens the path inside its own mount namespace and refuses it
/// unless device and inode match (an inode cannot be reused while `fd` pins it), so swapping
/// the path for a symlink or another directory after the check cannot redirect the bind.
#[derive(Debug)]
pub(crate) struct Grant {
    /// The path the kernel reports for `fd` (absolute, no symlinks).
    pub path: PathBuf,
    pub writable: bool,
    pub is_dir: bool,
    pub dev: u64,
    pub ino: u64,
    pub fd: OwnedFd,
}

/// Paths that can never be granted: the container has its own.
const NEVER_GRANTED: [&str; 3] = ["/dev", "/proc", "/sys"];

impl Config {
    /// Defaults: nothing granted, empty environment, 64 MiB /tmp, 1 GiB memory, 32 processes,
    /// no CPU or wall-clock limit, 1024 open files, 1 GiB file size.
    pub fn new() -> Config {
        Config {
            allow_read: Vec::new(),
            allow_write: Vec::new(),
            env: Vec::new(),
            tmp_size: 64 << 20,
            memory: 1 << 30,
            pids: 32,
            cpu_time: None,
            timeout: None,
            timeout_from: None,
            open_files: 1024,
            file_size: 1 << 30,
            quiet_fallback: false,
            warn_marker: None,
            root_maps_to: 65534,
            legacy_remount: false,
        }
    }

    /// Which limits would be in force, and how (cgroup or fallback), if `run` were called now.
    /// Probes the cgroup hierarchies by creating and removing a cgroup.
    pub fn describe_limits(&self) -> crate::LimitsReport {
        let (m, p) = crate::cgroups::probe(self.memory, self.pids.saturating_add(1));
        // SAFETY: geteuid cannot fail.
        let uid = unsafe { libc::geteuid() };
        crate::LimitsReport::build(self, &m, &p, uid)
    }

    /// Check the limits.
    pub(crate) fn check_limits(&self) -> Result<(), SandboxError> {
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
        if self.root_maps_to == 0 {
            return bad("the program cannot run as uid 0".into());
        }
        for (name, _) in &self.env {
            if name.is_empty() || name.as_bytes().contains(&b'=') || name.as_bytes().contains(&0) {
                return bad(format!("invalid environment variable name {:?}", name));
            }
        }
        Ok(())
    }

    /// Open every granted path (see [`Grant`]); parents come before children, and a path
    /// granted both ways is writable.
    pub(crate) fn grants(&self) -> Result<Vec<Grant>, SandboxError> {
        let mut out: Vec<Grant> = Vec::new();
        let all = self
            .allow_read
            .iter()
            .map(|p| (p, false))
            .chain(self.allow_write.iter().map(|p| (p, true)));
        for (p, writable) in all {
            let g = open_grant(p, writable)?;
            if let Some(prev) = out.iter_mut().find(|o| o.path == g.path) {
                prev.writable |= g.writable;
            } else {
                out.push(g);
            }
        }
        out.sort_by_key(|g| g.path.components().count());
        Ok(out)
    }
}

fn flag(writable: bool) -> &'static str {
    if writable {
        "--allow-write"
    } else {
        "--allow-read"
    }
}

fn open_grant(p: &Path, writable: bool) -> Result<Grant, SandboxError> {
    let what = flag(writable);
    let bad = |m: String| SandboxError::Config(format!("{what} {}: {m}", p.display()));
    let c = crate::sys::cstring(p).map_err(|e| bad(e.to_string()))?;
    // SAFETY: c is a NUL-terminated path; O_PATH opens no file content.
    let raw = unsafe { libc::open(c.as_ptr(), libc::O_PATH | libc::O_CLOEXEC) };
    if raw < 0 {
        return Err(bad(std::io::Error::last_os_error().to_string()));
    }
    // SAFETY: raw is a descriptor we just opened and own.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    let st = crate::sys::fstat(fd.as_raw_fd()).map_err(|e| bad(e.to_string()))?;
    let kind = st.st_mode & libc::S_IFMT;
    if kind == libc::S_IFCHR || kind == libc::S_IFBLK {
        return Err(bad(
            "is a device; devices cannot be granted (the container has its own /dev with null, zero, random and urandom)".into(),
        ));
    }
    let path = fd_path(fd.as_raw_fd()).map_err(|e| bad(format!("cannot tell where it is: {e}")))?;
    if path == Path::new("/") {
        return Err(bad(
            "refusing to grant the host's root directory; name the directories the program needs".into(),
        ));
    }
    for never in NEVER_GRANTED {
        if path.starts_with(never) {
            return Err(bad(format!(
                "is {} : {never} cannot be granted (the container has its own; devices and kernel interfaces of the host stay hidden)",
                path.display()
            )));
        }
    }
    Ok(Grant {
        path,
        writable,
        is_dir: kind == libc::S_IFDIR,
        dev: st.st_dev,
        ino: st.st_ino,
        fd,
    })
}

/// Where the kernel says `fd` is (readlink of its /proc/self/fd entry).
fn fd_path(fd: RawFd) -> std::io::Result<PathBuf> {
    let link = std::fs::read_link(format!("/proc/self/fd/{fd}"))?;
    let bytes = link.as_os_str().as_bytes();
    if !bytes.starts_with(b"/") || bytes.ends_with(b" (deleted)") {
        return Err(std::io::Error::new(std::io::ErrorKind::NotFound, "not reachable by a path"));
    }
    Ok(link)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let c = Config::new();
        assert_eq!(c.memory, 1 << 30);
        assert_eq!(c.tmp_size, 64 << 20);
        assert_eq!(c.pids, 32);
        assert_eq!(c.cpu_time, None);
        assert_eq!(c.timeout, None);
        assert!(c.env.is_empty() && c.allow_read.is_empty() && c.allow_write.is_empty());
    }

    #[test]
    fn grants_are_resolved_and_sorted() {
        let mut c = Config::new();
        c.allow_read.push("/usr/bin/../bin".into());
        c.allow_read.push("/usr".into());
        c.allow_write.push("/tmp".into());
        let g = c.grants().expect("valid");
        let paths: Vec<_> = g.iter().map(|g| g.path.to_str().unwrap_or("")).collect();
        // /usr/bin/../bin is /bin, or /usr/bin where /bin is a symlink to usr/bin.
        assert_eq!(paths.len(), 3);
        assert!(paths[..2].contains(&"/usr") && paths[..2].contains(&"/tmp"), "{paths:?}");
        assert!(paths[2] == "/usr/bin" || paths[2] == "/bin", "{paths:?}");
        assert!(g.iter().all(|g| g.is_dir));
        assert!(g.iter().find(|g| g.path == Path::new("/tmp")).map(|g| g.writable).unwrap_or(false));
    }

    #[test]
    fn refuses_root_devices_and_kernel_interfaces() {
        for p in [
            "/",
            "/dev",
            "/dev/null",
            "/dev/kmsg",
            "/proc/self",
            "/proc",
            "/sys",
            "/nonexistent-pvm-dir",
        ] {
            let mut c = Config::new();
            c.allow_read.push(p.into());
            let e = c.grants().expect_err(p);
            assert!(e.to_string().contains("--allow-read"), "{e}");
        }
        let mut c = Config::new();
        c.allow_write.push("/dev/shm".into());
        assert!(c.grants().is_err());
        let mut c = Config::new();
        c.memory = 1000;
        assert!(c.check_limits().is_err());
        let mut c = Config::new();
        c.env.push(("A=B".into(), "x".into()));
        assert!(c.check_limits().is_err());
    }
}
