//! The container's init: PID 1 of the new PID namespace, and the process that runs the body.
//! Builds everything that applies to itself, in this order (each step needs the privileges the
//! later ones remove):
//!
//! 1. PR_SET_PDEATHSIG(SIGKILL), then check the shim is still alive (life pipe);
//! 2. mount, network, UTS, IPC (and cgroup) namespaces; hostname `pvm`; `lo` up;
//! 3. the filesystem and `pivot_root` ([`crate::mounts`]);
//! 4. chdir to the caller's working directory (it exists inside: granted, or created empty);
//!    the process stays in the caller's session and process group, so the terminal's job
//!    control applies to it (a background read stops the job; the supervisor stops and
//!    continues the container as a whole); the seccomp filter denies `setsid`, `setpgid`,
//!    signals to process groups and every terminal ioctl but the read-only ones, so there is
//!    no TIOCSTI and no way out of the job;
//!    the environment is replaced by the configured one, and the initial environment block
//!    (what `/proc/self/environ` shows) is wiped;
//! 5. rlimits; PID-1 signal emulation ([`crate::init`]); the caller's signal mask restored;
//! 6. not dumpable; every inherited descriptor but 0, 1, 2 closed (and the message pipe);
//! 7. securebits locked and all capability sets cleared; no_new_privs;
//! 8. the seccomp filter, last; then the message pipe is closed and the body runs.

use std::io::Write;
use std::os::fd::RawFd;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::plan::ChildPlan;
use crate::shim::SETUP_FAILED;
use crate::sys;
use crate::wire::{ChildError, Ctx};

pub(crate) fn main<F: FnOnce() -> i32>(plan: &ChildPlan, trees: &[Option<RawFd>], msg: RawFd, life: RawFd, body: F) -> ! {
    if let Err(e) = setup(plan, trees, msg, life) {
        e.send(msg);
        sys::exit_now(SETUP_FAILED);
    }
    sys::close(msg);
    let code = catch_unwind(AssertUnwindSafe(body)).unwrap_or(101);
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    sys::exit_now(code)
}

fn shim_alive(life: RawFd) -> bool {
    let mut pfd = libc::pollfd {
        fd: life,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: pfd is a valid pollfd array of length 1.
    let r = unsafe { libc::poll(&mut pfd, 1, 0) };
    r == 0
}

fn setup(plan: &ChildPlan, trees: &[Option<RawFd>], msg: RawFd, life: RawFd) -> Result<(), ChildError> {
    sys::set_pdeathsig(libc::SIGKILL).ctx("PR_SET_PDEATHSIG")?;
    if !shim_alive(life) {
        sys::exit_now(SETUP_FAILED);
    }
    sys::close(life);

    crate::namespaces::enter_rest()?;
    crate::namespaces::set_hostname()?;
    crate::namespaces::loopback_up()?;
    crate::mounts::build_root(&plan.mounts, trees)?;

    let cwd_ok = plan.cwd.as_deref().map(|d| nix::unistd::chdir(d).is_ok()).unwrap_or(false);
    if !cwd_ok {
        nix::unistd::chdir("/").ctx("chdir /")?;
    }

    reset_environment(&plan.env);
    // The shim ignores the terminal's stop signals; the program must not (an ignored SIGTTIN
    // makes a background read fail with EIO instead of stopping the job).
    for sig in [libc::SIGTSTP, libc::SIGTTIN, libc::SIGTTOU] {
        sys::set_sig_handler(sig, libc::SIG_DFL).ctx("resetting the job-control signals")?;
    }
    crate::limits::apply(&plan.rlimits)?;
    crate::init::emulate_default_signals()?;
    sys::sigmask(libc::SIG_SETMASK, &plan.orig_mask).ctx("restoring the signal mask")?;

    crate::privs::make_undumpable()?;
    sys::close_fds_except(&[msg]);
    crate::privs::drop_capabilities()?;
    // Credential changes can clear the parent-death signal: set it again.
    sys::set_pdeathsig(libc::SIGKILL).ctx("PR_SET_PDEATHSIG")?;
    crate::privs::set_no_new_privs()?;
    crate::seccomp::install(&plan.filters)
}

/// Replace the environment by `env`: clear every variable, wipe the strings the kernel placed
/// on the stack at exec time (`/proc/self/environ` reads them, whatever `environ` says), then
/// set the configured ones (glibc allocates those anew).
fn reset_environment(env: &[(std::ffi::OsString, std::ffi::OsString)]) {
    let names: Vec<std::ffi::OsString> = std::env::vars_os().map(|(k, _)| k).collect();
    for k in names {
        std::env::remove_var(k);
    }
    if let Some((start, end)) = env_block() {
        // SAFETY: [start, end) is this process's initial environment block, placed by the
        // kernel in the stack mapping, which stays mapped and writable for the process's life.
        // No variable points into it any more (all were removed above), and nothing in Rust
        // holds a reference to it; C code that cached a pointer now reads an empty string.
        unsafe { std::ptr::write_bytes(start as *mut u8, 0, end - start) };
    }
    for (k, v) in env {
        std::env::set_var(k, v);
    }
}

/// env_start and env_end (fields 50 and 51 of /proc/self/stat).
fn env_block() -> Option<(usize, usize)> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut it = rest.split_whitespace().skip(47);
    let start: usize = it.next()?.parse().ok()?;
    let end: usize = it.next()?.parse().ok()?;
    (start > 0 && end > start && end - start < (64 << 20)).then_some((start, end))
}
