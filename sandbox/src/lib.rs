//! # pvm-sandbox: a rootless, daemonless container for `pvm run`
//!
//! `pvm run app.pvm` is its own container runtime: [`run`] forks, builds a container around
//! the child, runs the VM (the `body` closure) inside it, and leaves nothing behind when it
//! returns. No setuid helper, no daemon; it works as root and as an unprivileged user on any
//! kernel that allows unprivileged user namespaces, and fails with a clear
//! [`SandboxError::UserNamespaceRefused`] (never silently unsandboxed) where it does not.
//!
//! ```no_run
//! use std::time::Duration;
//! fn main() {
//!     // Parse flags and read the program first, then, before any thread is started:
//!     let mut cfg = pvm_sandbox::Config::new();
//!     cfg.allow_read.push("/home/me/data".into());
//!     cfg.memory = pvm_sandbox::size_parse("256M").expect("valid size");
//!     cfg.timeout = Some(Duration::from_secs(5));
//!     let status = match pvm_sandbox::run(&cfg, || 0 /* run the VM here */) {
//!         Ok(status) => status,
//!         Err(e) => {
//!             eprintln!("error: {e}");
//!             125
//!         }
//!     };
//!     std::process::exit(status);
//! }
//! ```
//!
//! ## Start-up order, and why `run` must come before any thread
//!
//! `unshare(CLONE_NEWUSER)` fails with `EINVAL` in a multi-threaded process, and `fork` in a
//! threaded process may copy locks held by other threads. So the CLI must parse its arguments
//! and load the program *before* any thread exists (no thread pool, no background logger),
//! call [`run`], and start the VM's threads inside `body`. [`run`] checks `/proc/self/status`
//! and returns [`SandboxError::Threaded`] otherwise. Everything the children need (grants,
//! seccomp BPF, rlimits, cgroups) is prepared in the parent before forking, so the children
//! only execute a plan and report errors back over a pipe.
//!
//! ## Nothing unless granted
//!
//! The container's root is an empty tmpfs. The caller reads the program before [`run`]; the
//! container holds only what [`Config`] grants (`allow_read`, `allow_write`), a private `/tmp`,
//! a `/dev` with four device nodes and a fresh `/proc`. The working directory is the caller's,
//! at the same path (created empty when no grant holds it). The environment is exactly
//! [`Config::env`]. A root caller's program runs as [`Config::root_maps_to`] (65534).
//!
//! ## How the container is built, step by step
//!
//! Four processes take part:
//!
//! ```text
//!   pvm (supervisor, host namespaces)        -- waits, enforces --timeout, job control, cleans up
//!    ├─ reaper (own session)                  -- removes the cgroups if the supervisor is SIGKILLed
//!    └─ shim (new user ns, host mount/pid ns) -- joins cgroups, maps ids, forks init, relays status
//!        └─ init = PID 1 (all new namespaces)  -- builds the container, runs `body`
//! ```
//!
//! **In the supervisor** ([`run`], `supervise`):
//! 1. check the process is single-threaded and the limits are sane; refuse standard streams
//!    that are directories; open every grant once (`O_PATH`), recording device and inode, and
//!    refuse `/`, devices and anything under `/dev`, `/proc`, `/sys`; compile the seccomp
//!    filters;
//! 2. sweep `pvm-*` cgroup directories left by dead runs, then create this run's cgroups
//!    (`memory` with swap disabled, `pids`), in the v1 or v2 hierarchy that holds each
//!    controller for this process (hybrid systems mix both). When that is not allowed, print
//!    which fallback limits are in force instead ([`LimitsReport`]), once per marker file;
//! 3. save the terminal's settings; fork the reaper (only with cgroups) and the shim.
//!
//! **In the shim** (`shim`):
//! 4. `PR_SET_PDEATHSIG(SIGKILL)` and check the supervisor is still its parent; ignore the
//!    terminal's stop signals (job control is the supervisor's);
//! 5. write itself into the cgroups, so everything it forks is inside them (on v1 through the
//!    `tasks` file: for a single-threaded process it is equivalent to `cgroup.procs` and skips
//!    an RCU grace period that costs 6-15 ms per run); the pids limit is set one higher to
//!    leave the configured number to the program;
//! 6. run the caller's loading step ([`run_with`]): inside the cgroups (or under the fallback
//!    watchdog and an `RLIMIT_AS` fence) and the wall-clock limit, with the caller's
//!    credentials; an `Err(status)` ends the run with that status;
//!    for the host's root: clone each grant's mount tree from the supervisor's descriptor
//!    and id-map it to the program's uid (root's files there become the program's), drop the
//!    supplementary groups and become uid/gid 65534;
//!    `unshare(CLONE_NEWUSER)`; deny `setgroups`; map the (now unprivileged) uid and gid to
//!    themselves (a single line each, which an unprivileged process may write);
//!    `unshare(CLONE_NEWPID)`;
//! 7. fork init, which becomes PID 1 of the new PID namespace; tell the supervisor its host
//!    pid; close everything else and wait for it, relaying its status and CPU time, passing
//!    [`STOP_SIGNAL`] on (SIGUSR2 from the supervisor) and killing it (SIGUSR1).
//!
//! **In init** (`container`, `namespaces`, `mounts`, `limits`, `init`, `privs`, `seccomp`):
//! 8. `PR_SET_PDEATHSIG(SIGKILL)`, then check the shim did not die before that;
//! 9. `unshare` mount, network, UTS, IPC and (where the kernel has it) cgroup namespaces;
//!    hostname `pvm`; bring `lo` up (the only interface; no socket can be created anyway);
//! 10. make `/` private, `pivot_root` into a staging tmpfs (host root at `/oldroot`), build
//!     the new root on a tmpfs: a `nodev` `/dev` with the host's null/zero/random/urandom
//!     bound read-only (each checked to be that device), a private size-capped `/tmp`, a
//!     fresh `/proc` (of the new PID namespace) with `/proc/sys`, `sysrq-trigger`, `bus`,
//!     `fs`, `irq` read-only and `kcore`, `keys`, `timer_list`, ... masked; each grant
//!     re-opened here with `O_NOFOLLOW` and bound only if it is the inode the supervisor
//!     opened, from that descriptor, `nosuid,nodev,noexec` (read-only for `allow_read`); the
//!     working directory created if missing; `pivot_root(".", ".")`, detach the old root,
//!     remount `/` read-only. Nothing else of the host is reachable;
//! 11. chdir to the caller's working directory; stay in the caller's session and process group
//!     (the terminal's job control applies; the filter denies TIOCSTI, `setsid`, `setpgid`
//!     and signals to process groups); replace the environment and wipe the initial
//!     environment block; reset the job-control signals to their defaults;
//! 12. rlimits (core 0, open files, file size, CPU time; `RLIMIT_AS`/`RLIMIT_NPROC` as
//!     fallbacks); default-action handlers for signals the kernel would not deliver to a PID 1;
//!     restore the caller's signal mask;
//! 13. not dumpable; close every inherited descriptor except 0, 1, 2;
//! 14. lock securebits; clear the bounding, ambient, inheritable, effective and permitted
//!     capability sets; `PR_SET_NO_NEW_PRIVS`;
//! 15. install the seccomp filter **last** (see `seccomp`): an allowlist for the VM, `EPERM`
//!     for everything else, `ENOSYS` for `clone3` so libc falls back to the inspectable
//!     `clone`; never a writable and executable mapping;
//! 16. close the message pipe (the supervisor now knows setup succeeded) and call `body`; its
//!     return value is the exit status. A panic that unwinds out of `body` gives 101.
//!
//! **Back in the supervisor:**
//! 17. wait for the shim's messages while enforcing `--timeout` (first [`STOP_SIGNAL`], then
//!     after 0.5 s a kill), job control (SIGTSTP/SIGTTIN/SIGTTOU stop every process of the
//!     container, then the supervisor; SIGCONT continues them) and, without a memory cgroup,
//!     sampling the container's resident memory; on a limit, ask the shim to SIGKILL init,
//!     which takes every process of the PID namespace with it;
//! 18. reap the shim (init is reaped by the shim, so no process is left), read the cgroups'
//!     OOM-kill and pids counters, remove the cgroup directories, let the reaper go; restore
//!     the terminal's settings; mounts need no cleanup, they lived in a mount namespace that
//!     died with init;
//! 19. print `error: memory limit exceeded (1 GiB)` or `error: time limit exceeded (5 s)`
//!     when a limit stopped the program and return 137 or 124; otherwise the program's exit
//!     status, or 128 + signal for a death by signal. Failures of the container itself are
//!     errors; callers exit with [`EXIT_SANDBOX`] (125) for them.
//!
//! ## Nothing left behind
//!
//! * processes: init is PID 1 of its namespace, so the kernel kills every process in it when
//!   init exits; init and the shim both have `PR_SET_PDEATHSIG(SIGKILL)`, so a SIGKILL of the
//!   supervisor takes the whole container down;
//! * mounts: only ever made in the container's private mount namespace;
//! * cgroups: removed by the supervisor; if it was killed with SIGKILL, by the reaper (and any
//!   stale one by the next run: names carry the owner's pid and start time).
//!
//! ## Known limits of the design
//!
//! * `RLIMIT_CPU` is per process (the VM is one process; children get their own budget).
//! * The fallback memory watchdog samples every 10 ms and sums resident memory per process
//!   (pages shared after `fork` count twice): a fast allocator can overshoot by what it
//!   touches in 10 ms, and an allocation beyond the `RLIMIT_AS` fence makes the program abort
//!   (status 134) rather than report the memory limit. `/tmp` is capped at a quarter of the
//!   limit and reserved out of it.
//! * cgroup v2 needs a delegated subtree for unprivileged users (`systemd-run --user --scope
//!   -p Delegate=yes`); otherwise the fallbacks apply and are reported.
//! * `execve` is denied and the container holds no programs; 32-bit (`int 0x80`) system
//!   calls kill the process (seccomp architecture check), x32 ones fail with `EPERM`.
//! * SIGSTOP to the supervisor alone cannot be caught: the container keeps running.
//!
//! ## Limits and their fallbacks
//!
//! With cgroups (root, or a delegated cgroup v2 subtree) memory and processes are limited for
//! the whole container. Without them, memory is watched by the supervisor (sum of resident
//! memory, every 10 ms) with a per-process `RLIMIT_AS` fence of twice the limit, and processes
//! are limited by `RLIMIT_NPROC`, which the kernel counts per user namespace (not enforced for
//! uid 0). [`Config::describe_limits`] reports exactly which mechanism is in force.

mod cgroups;
mod config;
mod container;
mod error;
mod init;
mod limits;
mod mounts;
mod namespaces;
mod plan;
mod privs;
mod seccomp;
mod shim;
mod size;
mod supervise;
mod sys;
mod watchdog;
mod wire;

pub use cgroups::CgroupVersion;
pub use config::Config;
pub use error::SandboxError;
pub use limits::{fallback_address_space, LimitEntry, LimitsReport};
pub use namespaces::HOSTNAME;
pub use seccomp::{ALLOWED_IOCTLS, CLONE_NS_FLAGS, DENIED as DENIED_SYSCALLS, DENIED_IOCTLS};
pub use size::{format_size, size_parse, SizeError};
pub use supervise::{EXIT_MEMORY, EXIT_SANDBOX, EXIT_TIME};

/// The signal the container's init receives when a time limit is reached, shortly before it
/// is killed: a body that buffers output should write it out and end (see [`on_stop_request`]).
/// Without a handler it ends the process (status 128 + signal), like any other signal.
pub const STOP_SIGNAL: libc::c_int = libc::SIGUSR2;

static STOP_HOOK: std::sync::OnceLock<fn()> = std::sync::OnceLock::new();

extern "C" fn on_stop_signal(_: libc::c_int) {
    if let Some(f) = STOP_HOOK.get() {
        f();
    }
}

/// Call `hook` when [`STOP_SIGNAL`] arrives (from inside `body`). `hook` runs in a signal
/// handler, so it must be async-signal-safe: set an atomic flag (e.g. a VM's interrupt flag)
/// and return. Only the first hook registered is kept.
pub fn on_stop_request(hook: fn()) -> std::io::Result<()> {
    let _ = STOP_HOOK.set(hook);
    sys::set_sig_handler(STOP_SIGNAL, on_stop_signal as extern "C" fn(libc::c_int) as libc::sighandler_t).map(drop)
}

/// Run `body` inside a fresh container and return the exit status to use.
///
/// Must be called while the process is still single-threaded (before any thread is spawned).
/// Forks; the child enters the container (all namespaces, `pivot_root`, limits, capabilities
/// dropped, no_new_privs, descriptors but 0/1/2 closed, seccomp last) and runs `body`, whose
/// return value is its exit status. The parent waits (enforcing `cfg.timeout`), handles job
/// control for the whole container, reports a limit that was hit with one line on stderr
/// (`error: memory limit exceeded (1 GiB)`, `error: time limit exceeded (5 s)`), cleans up and
/// returns 137 for memory, 124 for time, 128 + signal for a death by signal, and the program's
/// status otherwise.
///
/// `body` runs in the child only, after every file descriptor the caller opened was closed and
/// with nothing of the host's files visible but what `cfg` grants: read what the program needs
/// into memory first. Its environment is exactly `cfg.env`. The working directory is the
/// caller's, at the same path (with its content visible only if granted).
///
/// Standard streams that are directories are refused (the program could walk the host's file
/// system through `/proc/self/fd`).
///
/// If this process receives SIGINT, SIGTERM, SIGHUP or SIGQUIT while it waits, the container is
/// killed and cleaned up, then the signal is raised again with the caller's disposition (so
/// by default the caller dies of it, as it would have without the sandbox). SIGTSTP, SIGTTIN
/// and SIGTTOU stop the whole container, then this process; SIGCONT continues both.
pub fn run<F: FnOnce() -> i32>(cfg: &Config, body: F) -> Result<i32, SandboxError> {
    run_with(cfg, || Ok(()), |()| body())
}

/// [`run`] with a loading step: `load` runs first, in the container's supervising child
/// (the shim), after it joined the container's cgroups and before it enters the user
/// namespace, so it reads files with the caller's credentials and view of the host while the
/// memory limit (cgroup, or in the fallback the watchdog and an `RLIMIT_AS` fence) and the
/// wall-clock limit already apply. Its value is handed to `body` inside the container (no
/// copy: the container's init is forked from the shim). `Err(status)` ends the run with that
/// status (`load` prints why). A memory limit hit while loading is reported as usual (137).
pub fn run_with<T, P, F>(cfg: &Config, load: P, body: F) -> Result<i32, SandboxError>
where
    P: FnOnce() -> Result<T, i32>,
    F: FnOnce(T) -> i32,
{
    let threads = sys::thread_count().map_err(|e| SandboxError::setup("reading /proc/self/status", e))?;
    if threads != 1 {
        return Err(SandboxError::Threaded { threads });
    }
    cfg.check_limits()?;
    check_stdio()?;
    let grants = cfg.grants()?;
    let filters = seccomp::build()?;
    // SAFETY: geteuid/getegid cannot fail.
    let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
    // Root of the host (not of an enclosing user namespace, whose uid 0 is someone else
    // outside) runs the program as an unprivileged uid.
    let host_root = uid == 0 && sys::in_initial_userns();
    let (run_uid, run_gid) = if host_root {
        (cfg.root_maps_to, cfg.root_maps_to)
    } else {
        (uid, gid)
    };
    // +1: the shim lives in the cgroup too.
    let (cgroups, mem, pids) = cgroups::Cgroups::create(cfg.memory, cfg.pids.saturating_add(1));
    let report = LimitsReport::build(cfg, &mem, &pids, uid);
    if !cfg.quiet_fallback {
        if let Some(w) = report.fallback_warning() {
            warn_once(&w, cfg.warn_marker.as_deref());
        }
    }
    let orig_mask = sys::sigmask(libc::SIG_BLOCK, &sys::sigset(&[])).map_err(|e| SandboxError::setup("reading the signal mask", e))?;
    let cwd = std::env::current_dir().ok().filter(|d| d.is_absolute());
    let tmp_size = limits::effective_tmp_size(cfg, mem.is_ok());
    let plan = plan::ChildPlan {
        cwd: cwd.clone(),
        parent_pid: sys::getpid(),
        uid,
        gid,
        run_uid,
        run_gid,
        cgroup_procs: cgroups.procs_files(),
        mounts: mounts::MountPlan {
            binds: grants
                .iter()
                .map(|g| mounts::Bind {
                    path: g.path.clone(),
                    writable: g.writable,
                    is_dir: g.is_dir,
                    dev: g.dev,
                    ino: g.ino,
                    fd: std::os::fd::AsRawFd::as_raw_fd(&g.fd),
                })
                .collect(),
            tmp_size,
            cwd,
            legacy_remount: cfg.legacy_remount,
            root_runs_as: host_root.then_some(run_uid),
        },
        env: cfg.env.clone(),
        rlimits: limits::rlimit_plan(cfg, mem.is_ok(), pids.is_ok()),
        load_fence: mem.is_err().then(|| fallback_address_space(cfg.memory)),
        orig_mask,
        filters,
    };
    let watchdog = mem.is_err().then(|| limits::watchdog_budget(cfg));
    let r = supervise::launch(cfg, &plan, cgroups, watchdog, load, body);
    drop(grants);
    r
}

/// Refuse standard streams that are directories: `/proc/self/fd/0/etc/shadow` would walk the
/// host's file system from inside.
fn check_stdio() -> Result<(), SandboxError> {
    for (fd, name) in [(0, "standard input"), (1, "standard output"), (2, "standard error")] {
        if let Ok(st) = sys::fstat(fd) {
            if st.st_mode & libc::S_IFMT == libc::S_IFDIR {
                return Err(SandboxError::Config(format!(
                    "{name} is a directory; refusing to start (the program could reach the host's files through it)"
                )));
            }
        }
    }
    Ok(())
}

/// Print the fallback warning, once per marker file when one is given.
fn warn_once(warning: &str, marker: Option<&std::path::Path>) {
    match marker {
        None => eprintln!("{warning}"),
        Some(m) if m.exists() => {}
        Some(m) => {
            eprintln!("{warning} (shown once; this notice is remembered in {})", m.display());
            if let Some(dir) = m.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            let _ = std::fs::write(m, format!("{warning}\n"));
        }
    }
}
