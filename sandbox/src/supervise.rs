//! The supervising parent: forks the shim, then waits for it while enforcing the wall-clock
//! timeout, the fallback memory watchdog and its own termination signals; afterwards it reaps
//! the shim, reads what the cgroups saw, removes them, reports a limit that was hit with one
//! line on stderr and computes the exit status.
//!
//! Nothing is forwarded to the container: stdin/stdout/stderr are simply shared. If this
//! process receives SIGINT, SIGTERM, SIGHUP or SIGQUIT while waiting, the container is killed
//! and cleaned up first, then the signal is re-raised with the caller's disposition.

use std::io::Write;
use std::os::fd::RawFd;
use std::time::{Duration, Instant};

use crate::cgroups::Cgroups;
use crate::plan::ChildPlan;
use crate::size::{format_secs, format_size};
use crate::sys;
use crate::wire::{Msg, Reader};
use crate::{Config, SandboxError};

/// Exit status for a program stopped by the memory limit (like a SIGKILL death).
pub const EXIT_MEMORY: i32 = 137;
/// Exit status for a program stopped by a time limit (like timeout(1)).
pub const EXIT_TIME: i32 = 124;

const KILL_GRACE: Duration = Duration::from_secs(5);
const TERM_SIGNALS: [libc::c_int; 4] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    Timeout,
    Memory,
    Signal(libc::c_int),
}

struct Outcome {
    stop: Option<Stop>,
    exit: Option<(i32, u64)>,
    error: Option<SandboxError>,
}

pub(crate) fn launch<F: FnOnce() -> i32>(
    cfg: &Config,
    plan: &ChildPlan,
    mut cgroups: Cgroups,
    watchdog: Option<u64>,
    body: F,
) -> Result<i32, SandboxError> {
    let (msg_rd, msg_wr) = sys::pipe().map_err(|e| SandboxError::supervise("creating a pipe", e))?;
    // A caller's SIGCHLD=SIG_IGN would make the kernel reap the shim before we can wait for it.
    let old_chld = sys::set_sig_handler(libc::SIGCHLD, libc::SIG_DFL).map_err(|e| SandboxError::supervise("resetting SIGCHLD", e))?;
    // Buffered output would otherwise be written twice, once by each copy of the process.
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    let start = Instant::now();
    // SAFETY: `run` checked that this process is single-threaded.
    let shim = match unsafe { sys::fork() } {
        Ok(0) => {
            sys::close(msg_rd);
            crate::shim::main(plan, msg_wr, body)
        }
        Ok(pid) => pid,
        Err(e) => {
            sys::close(msg_rd);
            sys::close(msg_wr);
            let _ = sys::set_sig_handler(libc::SIGCHLD, old_chld);
            return Err(SandboxError::supervise("fork", e));
        }
    };
    sys::close(msg_wr);

    let term = sys::sigset(&TERM_SIGNALS);
    let old_mask = sys::sigmask(libc::SIG_BLOCK, &term);
    // SAFETY: term is a valid sigset_t.
    let sfd = unsafe { libc::signalfd(-1, &term, libc::SFD_CLOEXEC | libc::SFD_NONBLOCK) };
    let outcome = supervise(cfg, shim, msg_rd, sfd, watchdog, start);

    let mut status = 0;
    loop {
        // SAFETY: status is a valid out-pointer; shim is our child.
        let r = unsafe { libc::waitpid(shim, &mut status, 0) };
        if r >= 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            break;
        }
    }
    sys::close(msg_rd);
    if sfd >= 0 {
        sys::close(sfd);
    }
    let oom_kills = cgroups.oom_kills();
    let pids_hits = cgroups.pids_limit_hits();
    let cleanup = cgroups.remove();
    let _ = sys::set_sig_handler(libc::SIGCHLD, old_chld);
    if let Ok(m) = old_mask {
        let _ = sys::sigmask(libc::SIG_SETMASK, &m);
    }

    if let Some(Stop::Signal(sig)) = outcome.stop {
        // SAFETY: raise(3) with a valid signal; it runs the caller's disposition for it.
        unsafe { libc::raise(sig) };
        return Ok(128 + sig);
    }
    if let Some(e) = outcome.error {
        return Err(e);
    }
    if let Err(e) = cleanup {
        eprintln!("warning: {e}");
    }
    let mem_msg = || eprintln!("error: memory limit exceeded ({})", format_size(cfg.memory));
    match outcome.stop {
        Some(Stop::Timeout) => {
            eprintln!("error: time limit exceeded ({})", format_secs(cfg.timeout.unwrap_or_default()));
            return Ok(EXIT_TIME);
        }
        Some(Stop::Memory) => {
            mem_msg();
            return Ok(EXIT_MEMORY);
        }
        _ => {}
    }
    let Some((st, cpu_micros)) = outcome.exit else {
        if oom_kills > 0 {
            mem_msg();
            return Ok(EXIT_MEMORY);
        }
        return Err(SandboxError::supervise(
            format!("the sandbox shim ended without reporting the program's status (wait status {status:#x})"),
            std::io::Error::from_raw_os_error(libc::ECHILD),
        ));
    };
    let code = if libc::WIFSIGNALED(st) {
        let sig = libc::WTERMSIG(st);
        // RLIMIT_CPU is checked against tick-sampled CPU time while rusage reports precise
        // time, so the two differ a little: accept 3/4 of the limit.
        let cpu_hit = cfg.cpu_time.is_some_and(|limit| cpu_micros * 4 >= limit * 3_000_000);
        if sig == libc::SIGKILL && oom_kills > 0 {
            mem_msg();
            return Ok(EXIT_MEMORY);
        }
        if (sig == libc::SIGKILL || sig == libc::SIGXCPU) && cpu_hit {
            eprintln!("error: time limit exceeded ({} s of CPU time)", cfg.cpu_time.unwrap_or_default());
            return Ok(EXIT_TIME);
        }
        128 + sig
    } else {
        libc::WEXITSTATUS(st)
    };
    if code != 0 && pids_hits > 0 {
        eprintln!("error: process limit exceeded ({} processes)", cfg.pids);
    }
    Ok(code)
}

fn supervise(cfg: &Config, shim: libc::pid_t, msg_rd: RawFd, sfd: RawFd, watchdog: Option<u64>, start: Instant) -> Outcome {
    let deadline = cfg.timeout.map(|t| start + t);
    let mut out = Outcome {
        stop: None,
        exit: None,
        error: None,
    };
    let mut kill_sent: Option<Instant> = None;
    let mut hard_killed = false;
    let mut init_pid: Option<i32> = None;
    let mut reader = Reader::default();
    let stop = |out: &mut Outcome, kill_sent: &mut Option<Instant>, why: Stop| {
        if out.stop.is_none() {
            out.stop = Some(why);
        }
        if kill_sent.is_none() {
            // SAFETY: kill(2) on our own unreaped child.
            unsafe { libc::kill(shim, libc::SIGUSR1) };
            *kill_sent = Some(Instant::now());
        }
    };
    loop {
        let now = Instant::now();
        let mut wait: Option<Duration> = None;
        let mut shorten = |d: Duration| wait = Some(wait.map_or(d, |w: Duration| w.min(d)));
        match kill_sent {
            Some(t) if !hard_killed => {
                if now >= t + KILL_GRACE {
                    // The shim did not answer: kill it; init follows through its PDEATHSIG.
                    // SAFETY: kill(2) on our own unreaped child.
                    unsafe { libc::kill(shim, libc::SIGKILL) };
                    hard_killed = true;
                } else {
                    shorten(t + KILL_GRACE - now);
                }
            }
            Some(_) => {}
            None => {
                if let Some(d) = deadline {
                    if now >= d {
                        stop(&mut out, &mut kill_sent, Stop::Timeout);
                        continue;
                    }
                    shorten(d - now);
                }
                if watchdog.is_some() && init_pid.is_some() {
                    shorten(Duration::from_millis(crate::limits::WATCHDOG_INTERVAL_MS));
                }
            }
        }
        let timeout_ms = wait.map_or(-1, |w| w.as_millis().clamp(1, i32::MAX as u128) as i32);
        let mut fds = [
            libc::pollfd {
                fd: msg_rd,
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: sfd,
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        let nfds = if sfd >= 0 { 2 } else { 1 };
        // SAFETY: fds is a valid array of at least nfds pollfds.
        let r = unsafe { libc::poll(fds.as_mut_ptr(), nfds, timeout_ms) };
        if r < 0 {
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            out.error = Some(SandboxError::supervise("poll", e));
            stop(&mut out, &mut kill_sent, Stop::Timeout);
            break;
        }
        if nfds == 2 && fds[1].revents & libc::POLLIN != 0 {
            // SAFETY: signalfd_siginfo is plain data, filled in by read.
            let mut info: libc::signalfd_siginfo = unsafe { std::mem::zeroed() };
            let size = std::mem::size_of::<libc::signalfd_siginfo>();
            // SAFETY: info is a writable buffer of `size` bytes.
            let n = unsafe { libc::read(sfd, (&mut info as *mut libc::signalfd_siginfo).cast(), size) };
            if n == size as isize {
                stop(&mut out, &mut kill_sent, Stop::Signal(info.ssi_signo as libc::c_int));
            }
        }
        if fds[0].revents != 0 {
            match reader.fill(msg_rd) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) if e.raw_os_error() == Some(libc::EINTR) => {}
                Err(e) => {
                    out.error = Some(SandboxError::supervise("reading the message pipe", e));
                    break;
                }
            }
            while let Some(m) = reader.next_msg() {
                match m {
                    Msg::ContainerPid(p) => init_pid = Some(p),
                    Msg::Error { kind, step, detail } => {
                        if out.error.is_none() {
                            out.error = Some(SandboxError::from_wire(kind, step, detail));
                        }
                    }
                    Msg::Exit { status, cpu_micros } => out.exit = Some((status, cpu_micros)),
                }
            }
        }
        if let (Some(limit), Some(pid), None) = (watchdog, init_pid, kill_sent) {
            if out.exit.is_none() && crate::watchdog::tree_rss(pid) > limit {
                stop(&mut out, &mut kill_sent, Stop::Memory);
            }
        }
    }
    out
}
