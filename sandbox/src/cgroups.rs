//! cgroups: find where this process may create a child cgroup for the `memory` and `pids`
//! controllers (v1, v2 or a hybrid of both, as listed in /proc/self/cgroup and mountinfo),
//! create one per run, read what happened in it, and remove it afterwards. A start-up sweep
//! removes the directories of earlier runs whose supervising process died (e.g. SIGKILL).
//!
//! Directory names are `pvm-<pid>-<starttime>-<n>` of the supervising process, so a sweep can
//! tell a live run from a dead one even if the pid was reused.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use crate::sys;

/// Which cgroup hierarchy a controller was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CgroupVersion {
    /// Legacy hierarchy, one per controller (or group of controllers).
    V1,
    /// Unified hierarchy.
    V2,
}

#[derive(Debug, Clone)]
struct Hierarchy {
    version: CgroupVersion,
    /// This process's own cgroup directory in that hierarchy.
    dir: PathBuf,
}

/// One created cgroup directory.
#[derive(Debug, Clone)]
pub(crate) struct CgDir {
    pub path: PathBuf,
    pub version: CgroupVersion,
}

/// The cgroup directories of one run. Removed by [`Cgroups::remove`] (and on drop, in the
/// supervising process only: the children leave with `_exit`, which runs no destructors).
#[derive(Debug, Default)]
pub(crate) struct Cgroups {
    pub dirs: Vec<CgDir>,
    pub memory: Option<usize>,
    pub pids: Option<usize>,
}

/// What happened for one controller.
pub(crate) type ControllerResult = Result<(PathBuf, CgroupVersion), String>;

static SEQ: AtomicU32 = AtomicU32::new(0);

fn parse_self_cgroup() -> io::Result<Vec<(String, Vec<String>, String)>> {
    let text = fs::read_to_string("/proc/self/cgroup")?;
    Ok(text
        .lines()
        .filter_map(|l| {
            let mut it = l.splitn(3, ':');
            let id = it.next()?.to_string();
            let ctrls = it.next()?.split(',').filter(|s| !s.is_empty()).map(String::from).collect();
            let path = it.next()?.to_string();
            Some((id, ctrls, path))
        })
        .collect())
}

struct CgMount {
    fstype: String,
    root: String,
    mountpoint: PathBuf,
    super_opts: Vec<String>,
}

fn cgroup_mounts() -> io::Result<Vec<CgMount>> {
    let text = fs::read_to_string("/proc/self/mountinfo")?;
    let mut out = Vec::new();
    for line in text.lines() {
        let Some((pre, post)) = line.split_once(" - ") else {
            continue;
        };
        let pre: Vec<&str> = pre.split(' ').collect();
        let post: Vec<&str> = post.split(' ').collect();
        let (Some(root), Some(mp), Some(fstype), Some(opts)) = (pre.get(3), pre.get(4), post.first(), post.get(2)) else {
            continue;
        };
        if *fstype == "cgroup" || *fstype == "cgroup2" {
            out.push(CgMount {
                fstype: fstype.to_string(),
                root: crate::mounts::unescape_mountinfo(root),
                mountpoint: PathBuf::from(crate::mounts::unescape_mountinfo(mp)),
                super_opts: opts.split(',').map(String::from).collect(),
            });
        }
    }
    Ok(out)
}

fn join_cg_path(m: &CgMount, cg_path: &str) -> Option<PathBuf> {
    let rel = Path::new(cg_path).strip_prefix(&m.root).ok()?;
    if rel.as_os_str().is_empty() {
        return Some(m.mountpoint.clone());
    }
    Some(m.mountpoint.join(rel))
}

/// Find the hierarchy that holds `controller` for this process: a v1 hierarchy if the
/// controller is mounted as v1 (hybrid systems), otherwise the unified one if it offers it.
fn locate(controller: &str) -> Result<Hierarchy, String> {
    let own = parse_self_cgroup().map_err(|e| format!("cannot read /proc/self/cgroup: {e}"))?;
    let mounts = cgroup_mounts().map_err(|e| format!("cannot read /proc/self/mountinfo: {e}"))?;
    if let Some((_, _, path)) = own.iter().find(|(id, c, _)| id != "0" && c.iter().any(|c| c == controller)) {
        let m = mounts
            .iter()
            .find(|m| m.fstype == "cgroup" && m.super_opts.iter().any(|o| o == controller))
            .ok_or_else(|| format!("the v1 {controller} hierarchy is not mounted"))?;
        let dir =
            join_cg_path(m, path).ok_or_else(|| format!("this process's {controller} cgroup {path} is outside the mounted hierarchy"))?;
        return Ok(Hierarchy {
            version: CgroupVersion::V1,
            dir,
        });
    }
    if let Some((_, _, path)) = own.iter().find(|(id, c, _)| id == "0" && c.is_empty()) {
        if let Some(m) = mounts.iter().find(|m| m.fstype == "cgroup2") {
            let dir =
                join_cg_path(m, path).ok_or_else(|| format!("this process's cgroup {path} is outside the mounted cgroup2 hierarchy"))?;
            let available = fs::read_to_string(dir.join("cgroup.controllers")).unwrap_or_default();
            if available.split_whitespace().any(|c| c == controller) {
                return Ok(Hierarchy {
                    version: CgroupVersion::V2,
                    dir,
                });
            }
            return Err(format!(
                "the {controller} controller is not available in cgroup v2 at {}",
                dir.display()
            ));
        }
    }
    Err(format!("no cgroup hierarchy offers the {controller} controller"))
}

fn write(path: &Path, value: &str) -> io::Result<()> {
    fs::write(path, value).map_err(|e| io::Error::new(e.kind(), format!("writing {}: {e}", path.display())))
}

fn run_name() -> String {
    let pid = sys::getpid();
    let start = sys::process_start_time(pid).unwrap_or(0);
    format!("pvm-{pid}-{start}-{}", SEQ.fetch_add(1, Ordering::Relaxed))
}

impl Cgroups {
    /// Create the cgroups for one run: memory limited to `memory` bytes (no swap), at most
    /// `pids` tasks. Each controller that cannot be used is reported with the reason.
    pub(crate) fn create(memory: u64, pids: u64) -> (Cgroups, ControllerResult, ControllerResult) {
        let name = run_name();
        let mut cg = Cgroups::default();
        let mem = locate("memory").and_then(|h| {
            sweep_stale(&h.dir);
            cg.add(&h, &name, "memory", |d| set_memory(d, h.version, memory))
        });
        if let Ok(i) = &mem {
            cg.memory = Some(*i);
        }
        let pid = locate("pids").and_then(|h| {
            sweep_stale(&h.dir);
            cg.add(&h, &name, "pids", |d| write(&d.join("pids.max"), &pids.to_string()))
        });
        if let Ok(i) = &pid {
            cg.pids = Some(*i);
        }
        let res = |r: &Result<usize, String>, cg: &Cgroups| match r {
            Ok(i) => Ok((cg.dirs[*i].path.clone(), cg.dirs[*i].version)),
            Err(e) => Err(e.clone()),
        };
        let (m, p) = (res(&mem, &cg), res(&pid, &cg));
        (cg, m, p)
    }

    fn add(&mut self, h: &Hierarchy, name: &str, controller: &str, limit: impl FnOnce(&Path) -> io::Result<()>) -> Result<usize, String> {
        let path = h.dir.join(name);
        if let Some(i) = self.dirs.iter().position(|d| d.path == path) {
            // v2: one directory serves both controllers.
            limit(&path).map_err(|e| e.to_string())?;
            return Ok(i);
        }
        if h.version == CgroupVersion::V2 {
            enable_v2_controller(&h.dir, controller)?;
        }
        fs::create_dir(&path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        let dir = CgDir {
            path: path.clone(),
            version: h.version,
        };
        if let Err(e) = limit(&path) {
            remove_dir(&dir);
            return Err(e.to_string());
        }
        self.dirs.push(dir);
        Ok(self.dirs.len() - 1)
    }

    /// The files the shim writes "0" into to move itself (and so the container) into the cgroups.
    ///
    /// On v1 this is `tasks`, which moves only the calling thread: the shim is single-threaded,
    /// so that is the whole process, and it skips the threadgroup lock whose RCU synchronisation
    /// makes a `cgroup.procs` write take 6-15 ms (measured: 14 ms vs 0.35 ms).
    pub(crate) fn procs_files(&self) -> Vec<PathBuf> {
        self.dirs
            .iter()
            .map(|d| match d.version {
                CgroupVersion::V1 => d.path.join("tasks"),
                CgroupVersion::V2 => d.path.join("cgroup.procs"),
            })
            .collect()
    }

    /// Number of processes the kernel's OOM killer killed in the memory cgroup.
    pub(crate) fn oom_kills(&self) -> u64 {
        let Some(d) = self.memory.and_then(|i| self.dirs.get(i)) else {
            return 0;
        };
        let (file, key) = match d.version {
            CgroupVersion::V1 => ("memory.oom_control", "oom_kill"),
            CgroupVersion::V2 => ("memory.events", "oom_kill"),
        };
        read_key(&d.path.join(file), key)
    }

    /// How often a fork/clone failed because the pids limit was reached.
    pub(crate) fn pids_limit_hits(&self) -> u64 {
        let Some(d) = self.pids.and_then(|i| self.dirs.get(i)) else {
            return 0;
        };
        read_key(&d.path.join("pids.events"), "max")
    }

    /// Kill whatever is left in the cgroups and remove the directories.
    pub(crate) fn remove(&mut self) -> Result<(), String> {
        let mut errors = Vec::new();
        for d in self.dirs.drain(..) {
            if !remove_dir(&d) {
                errors.push(d.path.display().to_string());
            }
        }
        self.memory = None;
        self.pids = None;
        if errors.is_empty() {
            Ok(())
        } else {
            Err(format!("could not remove cgroup directories: {}", errors.join(", ")))
        }
    }
}

impl Drop for Cgroups {
    fn drop(&mut self) {
        let _ = self.remove();
    }
}

fn set_memory(dir: &Path, v: CgroupVersion, bytes: u64) -> io::Result<()> {
    match v {
        CgroupVersion::V1 => {
            write(&dir.join("memory.limit_in_bytes"), &bytes.to_string())?;
            // memory+swap: present only with swap accounting; must not be below the limit.
            let memsw = dir.join("memory.memsw.limit_in_bytes");
            if memsw.exists() {
                write(&memsw, &bytes.to_string())?;
            }
        }
        CgroupVersion::V2 => {
            write(&dir.join("memory.max"), &bytes.to_string())?;
            let swap = dir.join("memory.swap.max");
            if swap.exists() {
                write(&swap, "0")?;
            }
        }
    }
    Ok(())
}

fn enable_v2_controller(parent: &Path, controller: &str) -> Result<(), String> {
    let ctl = parent.join("cgroup.subtree_control");
    let enabled = fs::read_to_string(&ctl).unwrap_or_default();
    if enabled.split_whitespace().any(|c| c == controller) {
        return Ok(());
    }
    fs::write(&ctl, format!("+{controller}")).map_err(|e| {
        let why = if e.raw_os_error() == Some(libc::EBUSY) {
            " (the cgroup holds processes, so it cannot delegate controllers; start pvm in a \
             delegated cgroup, e.g. `systemd-run --user --scope -p Delegate=yes pvm run ...`)"
        } else {
            ""
        };
        format!("cannot enable the {controller} controller in {}: {e}{why}", ctl.display())
    })
}

fn read_key(file: &Path, key: &str) -> u64 {
    fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(' ')?;
            (k == key).then(|| v.trim().parse().ok()).flatten()
        })
        .unwrap_or(0)
}

fn kill_members(dir: &Path) {
    for file in ["cgroup.procs", "tasks"] {
        for pid in fs::read_to_string(dir.join(file)).unwrap_or_default().lines() {
            if let Ok(pid) = pid.trim().parse::<libc::pid_t>() {
                // SAFETY: plain kill(2); the pid is a member of our own cgroup.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
    }
}

/// rmdir with retries: a cgroup stays busy until its last task is reaped.
fn remove_dir(d: &CgDir) -> bool {
    for attempt in 0..200 {
        match fs::remove_dir(&d.path) {
            Ok(()) => return true,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return true,
            Err(_) => {
                if attempt % 10 == 0 {
                    kill_members(&d.path);
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }
    false
}

/// Remove `pvm-*` directories in `parent` left by runs whose supervising process is gone.
pub(crate) fn sweep_stale(parent: &Path) {
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some((pid, start)) = parse_run_name(&name) else {
            continue;
        };
        if sys::process_start_time(pid) == Some(start) {
            continue; // owner alive
        }
        let d = CgDir {
            path: e.path(),
            version: CgroupVersion::V1,
        };
        kill_members(&d.path);
        for _ in 0..20 {
            if fs::remove_dir(&d.path).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

fn parse_run_name(name: &str) -> Option<(libc::pid_t, u64)> {
    let mut it = name.strip_prefix("pvm-")?.split('-');
    let pid = it.next()?.parse().ok()?;
    let start = it.next()?.parse().ok()?;
    Some((pid, start))
}

/// Probe without side effects left behind: can cgroups be created here right now?
pub(crate) fn probe(memory: u64, pids: u64) -> (ControllerResult, ControllerResult) {
    let (mut cg, m, p) = Cgroups::create(memory, pids);
    let _ = cg.remove();
    (m, p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweep_removes_only_dead_owners() {
        let base = std::env::temp_dir().join(format!("pvm-sweep-test-{}", std::process::id()));
        let me = sys::getpid();
        let start = sys::process_start_time(me).unwrap_or(0);
        let live = base.join(format!("pvm-{me}-{start}-0"));
        let dead = base.join(format!("pvm-{me}-{}-0", start + 1)); // same pid, other start time
        let other = base.join("not-ours");
        for d in [&live, &dead, &other] {
            fs::create_dir_all(d).expect("mkdir");
        }
        sweep_stale(&base);
        assert!(live.exists() && other.exists() && !dead.exists());
        let _ = fs::remove_dir_all(&base);
    }

    #[test]
    fn run_names_parse() {
        assert_eq!(parse_run_name("pvm-123-456-0"), Some((123, 456)));
        assert_eq!(parse_run_name("other"), None);
        assert_eq!(parse_run_name("pvm-x-1-0"), None);
    }

    #[test]
    fn cg_path_join() {
        let m = CgMount {
            fstype: "cgroup".into(),
            root: "/".into(),
            mountpoint: "/sys/fs/cgroup/memory".into(),
            super_opts: vec![],
        };
        assert_eq!(join_cg_path(&m, "/a/b"), Some(PathBuf::from("/sys/fs/cgroup/memory/a/b")));
        let m = CgMount { root: "/a".into(), ..m };
        assert_eq!(join_cg_path(&m, "/a/b"), Some(PathBuf::from("/sys/fs/cgroup/memory/b")));
        assert_eq!(join_cg_path(&m, "/c"), None);
        assert_eq!(join_cg_path(&m, "/ab"), None);
        assert_eq!(join_cg_path(&m, "/a"), Some(PathBuf::from("/sys/fs/cgroup/memory")));
    }
}
