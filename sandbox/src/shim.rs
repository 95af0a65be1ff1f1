//! The shim: the first child of the supervising parent. It joins the cgroups, creates the user
//! namespace (mapping the caller's uid/gid to root) and the PID namespace, forks the container's
//! init (PID 1), reports its host pid, then only waits: it relays init's exit status and CPU time
//! to the parent, and kills init when the parent asks (SIGUSR1). It stays in the host's mount,
//! network and PID namespaces, so it never sees the container's filesystem.
//!
//! If the parent dies, the shim gets SIGKILL (PR_SET_PDEATHSIG); then init gets SIGKILL for
//! the same reason, and with init the kernel kills every process of the PID namespace.
//!
//! SIGUSR2 from the parent is a polite stop (a time limit): it is passed on to init as
//! [`crate::STOP_SIGNAL`], so the program can write out what it buffered before the parent
//! follows up with SIGUSR1. The shim ignores the terminal's stop signals: job control is the
//! supervisor's business (it stops and continues the whole container).

use std::os::fd::RawFd;

use crate::plan::ChildPlan;
use crate::sys;
use crate::wire::{self, ChildError, Msg};

/// Exit code of a child whose setup failed (the parent reports the error message instead).
pub(crate) const SETUP_FAILED: i32 = 127;

pub(crate) fn main<T, P, F>(plan: &ChildPlan, msg: RawFd, load: P, body: F) -> !
where
    P: FnOnce() -> Result<T, i32>,
    F: FnOnce(T) -> i32,
{
    if sys::set_pdeathsig(libc::SIGKILL).is_err() || nix::unistd::getppid().as_raw() != plan.parent_pid {
        sys::exit_now(SETUP_FAILED);
    }
    for sig in [libc::SIGTSTP, libc::SIGTTIN, libc::SIGTTOU] {
        let _ = sys::set_sig_handler(sig, libc::SIG_IGN);
    }
    let init = match join_cgroups(plan) {
        Ok(()) => {
            // The caller's loading step: inside the cgroups (or under the fallback fence),
            // under the wall-clock limit, with the caller's credentials and view of the host.
            let loaded = with_address_space_fence(plan.load_fence, load);
            match loaded {
                Ok(t) => {
                    let trees = idmapped_grants(plan);
                    match enter_namespaces(plan) {
                        Ok(()) => spawn_init(plan, &trees, msg, move || body(t)),
                        Err(e) => Err(e),
                    }
                }
                Err(code) => {
                    wire::send(
                        msg,
                        &Msg::Exit {
                            status: (code & 0xff) << 8,
                            cpu_micros: 0,
                        },
                    );
                    sys::exit_now(0)
                }
            }
        }
        Err(e) => Err(e),
    };
    match init {
        Ok(pid) => wait_loop(msg, pid),
        Err(e) => {
            e.send(msg);
            sys::exit_now(SETUP_FAILED)
        }
    }
}

fn join_cgroups(plan: &ChildPlan) -> Result<(), ChildError> {
    for procs in &plan.cgroup_procs {
        std::fs::write(procs, "0").map_err(|e| ChildError::new(format!("joining the cgroup {}", procs.display()), e))?;
    }
    Ok(())
}

/// Run `f` with the soft `RLIMIT_AS` lowered to `fence` bytes above what is mapped now (when
/// there is no memory cgroup), then put the soft limit back.
fn with_address_space_fence<R>(fence: Option<u64>, f: impl FnOnce() -> R) -> R {
    let Some(extra) = fence else { return f() };
    let mut old = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: old is a valid rlimit to fill in.
    let have = unsafe { libc::getrlimit(libc::RLIMIT_AS, &mut old) } == 0;
    if have {
        let now = crate::watchdog::address_space(sys::getpid());
        let lowered = libc::rlimit {
            rlim_cur: now.saturating_add(extra).min(old.rlim_max),
            rlim_max: old.rlim_max,
        };
        // SAFETY: lowering the soft limit below the hard one needs no privilege.
        unsafe { libc::setrlimit(libc::RLIMIT_AS, &lowered) };
    }
    let r = f();
    if have {
        // SAFETY: raising the soft limit back up to (at most) the hard limit is allowed.
        unsafe { libc::setrlimit(libc::RLIMIT_AS, &old) };
    }
    r
}

fn enter_namespaces(plan: &ChildPlan) -> Result<(), ChildError> {
    crate::namespaces::enter_user_and_pid(plan.uid, plan.gid, plan.run_uid, plan.run_gid)?;
    // Changing credentials clears the parent-death signal: set it again, then make sure the
    // parent did not die in between.
    sys::set_pdeathsig(libc::SIGKILL).map_err(|e| ChildError::new("PR_SET_PDEATHSIG", e))?;
    if nix::unistd::getppid().as_raw() != plan.parent_pid {
        sys::exit_now(SETUP_FAILED);
    }
    Ok(())
}

/// For the host's root (whose program runs unprivileged), the grants as id-mapped detached
/// trees, prepared while the shim still has the host's root privileges (see
/// `mounts::idmapped_trees`). Empty (bind as usual) otherwise, or where it cannot be done.
fn idmapped_grants(plan: &ChildPlan) -> Vec<Option<RawFd>> {
    let Some(uid) = plan.mounts.root_runs_as else { return Vec::new() };
    // (the legacy knob tests the other path: binds remounted one by one)
    if plan.mounts.binds.is_empty() || plan.mounts.legacy_remount {
        return Vec::new();
    }
    match crate::namespaces::idmap_userns(uid) {
        Ok(ns) => crate::mounts::idmapped_trees(&plan.mounts.binds, std::os::fd::AsRawFd::as_raw_fd(&ns)),
        Err(_) => Vec::new(),
    }
}

fn spawn_init<F: FnOnce() -> i32>(plan: &ChildPlan, trees: &[Option<RawFd>], msg: RawFd, body: F) -> Result<libc::pid_t, ChildError> {
    // The container learns that the shim died before it could set its own PDEATHSIG through
    // this pipe: the shim holds the only write end.
    let (life_rd, life_wr) = sys::pipe().map_err(|e| ChildError::new("creating a pipe", e))?;
    // Block SIGCHLD/SIGUSR1 before forking so that neither can be lost before sigwaitinfo.
    sys::sigmask(libc::SIG_BLOCK, &sys::sigset(&[libc::SIGCHLD, libc::SIGUSR1, libc::SIGUSR2]))
        .map_err(|e| ChildError::new("blocking signals", e))?;
    // SAFETY: the shim is single-threaded (forked from a single-threaded parent).
    let pid = unsafe { sys::fork() }.map_err(|e| ChildError::new("forking the container's init", e))?;
    if pid == 0 {
        sys::close(life_wr);
        crate::container::main(plan, trees, msg, life_rd, body);
    }
    sys::close(life_rd);
    wire::send(msg, &Msg::ContainerPid(pid));
    sys::close_fds_except(&[msg, life_wr]);
    Ok(pid)
}

fn wait_loop(msg: RawFd, init: libc::pid_t) -> ! {
    let set = sys::sigset(&[libc::SIGCHLD, libc::SIGUSR1, libc::SIGUSR2]);
    loop {
        // SAFETY: set is a valid sigset_t; a null siginfo pointer is allowed.
        let sig = unsafe { libc::sigwaitinfo(&set, std::ptr::null_mut()) };
        // (init is our own unreaped child, so its pid cannot have been reused.)
        if sig == libc::SIGUSR1 {
            sys::kill(init, libc::SIGKILL);
        } else if sig == libc::SIGUSR2 {
            sys::kill(init, crate::STOP_SIGNAL);
        }
        let mut status = 0;
        // SAFETY: rusage is plain data filled in by wait4.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: status and ru are valid out-pointers.
        let r = unsafe { libc::wait4(init, &mut status, libc::WNOHANG, &mut ru) };
        if r == init {
            let micros = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
            let cpu_micros = micros(ru.ru_utime) + micros(ru.ru_stime);
            wire::send(msg, &Msg::Exit { status, cpu_micros });
            sys::exit_now(0);
        }
        if r < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ECHILD) {
            sys::exit_now(SETUP_FAILED);
        }
    }
}
