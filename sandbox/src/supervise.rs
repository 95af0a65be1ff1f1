//! The supervising parent: forks the shim (and, when cgroups were created, a reaper), then
//! waits for the shim while enforcing the wall-clock timeout, the fallback memory watchdog,
//! its own termination signals and job control; afterwards it reaps the shim, reads what the
//! cgroups saw, removes them, restores the terminal's settings, reports a limit that was hit
//! with one line on stderr and computes the exit status.
//!
//! * SIGINT, SIGTERM, SIGHUP, SIGQUIT: the container is killed and cleaned up first, then the
//!   signal is re-raised with the caller's disposition.
//! * SIGTSTP, SIGTTIN, SIGTTOU (Ctrl-Z, a background read or write of the terminal): every
//!   process of the container is stopped with SIGSTOP (the container's init is PID 1 of its
//!   namespace and ignores stop signals it has no handler for, unless they come from outside),
//!   then this process stops itself with the same signal, so the shell sees the job stopped;
//!   when continued (`fg`, `bg`, SIGCONT), it continues the container. The wall-clock limit
//!   does not run while the job is stopped.
//! * Time limit: the shim is asked to pass [`crate::STOP_SIGNAL`] to init, so the program can
//!   write out its buffered output, and after [`STOP_GRACE`] to kill it.
//! * The reaper: a child that leaves the process group and waits for this process to die. If
//!   this process dies without cleaning up (SIGKILL), the reaper kills what is left in the
//!   cgroups and removes them, so nothing stays behind.

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
/// Exit status to use when the container itself could not be started or supervised (as
/// Docker and Podman use), distinct from the program's own statuses.
pub const EXIT_SANDBOX: i32 = 125;

const KILL_GRACE: Duration = Duration::from_secs(5);
/// How long a program may take to write out its output after [`crate::STOP_SIGNAL`].
pub(crate) const STOP_GRACE: Duration = Duration::from_millis(500);
const TERM_SIGNALS: [libc::c_int; 4] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT];
const JOB_SIGNALS: [libc::c_int; 3] = [libc::SIGTSTP, libc::SIGTTIN, libc::SIGTTOU];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    Timeout,
    Memory,
    Signal(libc::c_int),
}

struct Outcome {
    /// Whether the shim reported init's pid (loading was over).
    container_started: bool,
    stop: Option<Stop>,
    exit: Option<(i32, u64)>,
    error: Option<SandboxError>,
}

pub(crate) fn launch<T, P, F>(
    cfg: &Config,
    plan: &ChildPlan,
    mut cgroups: Cgroups,
    watchdog: Option<u64>,
    load: P,
    body: F,
) -> Result<i32, SandboxError>
where
    P: FnOnce() -> Result<T, i32>,
    F: FnOnce(T) -> i32,
{
    let (msg_rd, msg_wr) = sys::pipe().map_err(|e| SandboxError::supervise("creating a pipe", e))?;
    // A caller's SIGCHLD=SIG_IGN would make the kernel reap the shim before we can wait for it.
    let old_chld = sys::set_sig_handler(libc::SIGCHLD, libc::SIG_DFL).map_err(|e| SandboxError::supervise("resetting SIGCHLD", e))?;
    // Buffered output would otherwise be written twice, once by each copy of the process.
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    let term = sys::TermState::save();
    let reaper = if cgroups.dirs.is_empty() { None } else { spawn_reaper(&cgroups) };
    let start = cfg.timeout_from.unwrap_or_else(Instant::now);
    // SAFETY: `run` checked that this process is single-threaded.
    let shim = match unsafe { sys::fork() } {
        Ok(0) => {
            sys::close(msg_rd);
            if let Some((_, fd)) = reaper {
                sys::close(fd);
            }
            crate::shim::main(plan, msg_wr, load, body)
        }
        Ok(pid) => pid,
        Err(e) => {
            sys::close(msg_rd);
            sys::close(msg_wr);
            let _ = sys::set_sig_handler(libc::SIGCHLD, old_chld);
            finish_reaper(reaper);
            return Err(SandboxError::supervise("fork", e));
        }
    };
    sys::close(msg_wr);

    let mut watched = TERM_SIGNALS.to_vec();
    watched.extend(JOB_SIGNALS);
    watched.push(libc::SIGCONT);
    let set = sys::sigset(&watched);
    let old_mask = sys::sigmask(libc::SIG_BLOCK, &set);
    // SAFETY: set is a valid sigset_t.
    let sfd = unsafe { libc::signalfd(-1, &set, libc::SFD_CLOEXEC | libc::SFD_NONBLOCK) };
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
    // Wake the reaper now: it finds the cgroups gone (or removes them itself, racing with us
    // harmlessly) and exits while we clean up, so the final wait is short.
    let reaper = reaper.map(|(pid, fd)| {
        sys::close(fd);
        pid
    });
    let cleanup = cgroups.remove();
    if let Some(t) = &term {
        t.restore();
    }
    if let Some(pid) = reaper {
        let mut st = 0;
        // SAFETY: pid is our own child; st is a valid out-pointer.
        while unsafe { libc::waitpid(pid, &mut st, 0) } < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {}
    }
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
        // Loading ran in the shim: under a memory cgroup the OOM killer ends it; under the
        // fallback's RLIMIT_AS fence an allocation fails and it aborts.
        let fenced_abort = watchdog.is_some()
            && !outcome.container_started
            && libc::WIFSIGNALED(status)
            && matches!(libc::WTERMSIG(status), libc::SIGABRT | libc::SIGSEGV | libc::SIGBUS);
        if oom_kills > 0 || fenced_abort {
            mem_msg();
            return Ok(EXIT_MEMORY);
        }
        let how = if libc::WIFSIGNALED(status) {
            format!("was killed by signal {}", libc::WTERMSIG(status))
        } else {
            format!("ended with status {}", libc::WEXITSTATUS(status))
        };
        return Err(SandboxError::supervise(
            format!("the container's supervising process (shim) {how} before reporting the program's status"),
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

/// Fork the reaper (see the module docs). Returns its pid and the write end of the pipe whose
/// closing (by [`finish_reaper`], or by this process's death) wakes it.
fn spawn_reaper(cgroups: &Cgroups) -> Option<(libc::pid_t, RawFd)> {
    let (rd, wr) = sys::pipe().ok()?;
    let dirs = cgroups.dirs.clone();
    // SAFETY: `run` checked that this process is single-threaded.
    match unsafe { sys::fork() } {
        Ok(0) => {
            // Out of the caller's session and process group: a signal to the job (Ctrl-C,
            // kill -9 of the group) must not take the reaper with it.
            // SAFETY: setsid has no preconditions.
            unsafe { libc::setsid() };
            for sig in [
                libc::SIGINT,
                libc::SIGHUP,
                libc::SIGTERM,
                libc::SIGQUIT,
                libc::SIGTSTP,
                libc::SIGTTIN,
                libc::SIGTTOU,
                libc::SIGPIPE,
            ] {
                let _ = sys::set_sig_handler(sig, libc::SIG_IGN);
            }
            // Hold no standard stream open (a reader of pvm's output must see its end).
            // SAFETY: closing our copies of the standard descriptors.
            unsafe {
                libc::close(0);
                libc::close(1);
                libc::close(2);
            }
            sys::close_fds_except(&[rd]);
            let mut b = [0u8; 1];
            let _ = sys::read_some(rd, &mut b);
            // Either the supervisor removed the cgroups (then this finds nothing), or it died.
            let mut cg = Cgroups {
                dirs,
                memory: None,
                pids: None,
            };
            let _ = cg.remove();
            sys::exit_now(0)
        }
        Ok(pid) => {
            sys::close(rd);
            Some((pid, wr))
        }
        Err(_) => {
            sys::close(rd);
            sys::close(wr);
            None
        }
    }
}

/// Wake the reaper and wait for it (error paths).
fn finish_reaper(reaper: Option<(libc::pid_t, RawFd)>) {
    if let Some((pid, fd)) = reaper {
        sys::close(fd);
        let mut st = 0;
        // SAFETY: pid is our own child; st is a valid out-pointer.
        while unsafe { libc::waitpid(pid, &mut st, 0) } < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {}
    }
}

/// Stop every process of the container, then this process with `sig`; once continued, continue
/// the container. Returns how long the job was stopped.
fn job_stop(init: Option<i32>, sig: libc::c_int) -> Duration {
    let stopped_at = Instant::now();
    if let Some(init) = init {
        for pid in crate::watchdog::tree(init) {
            sys::kill(pid, libc::SIGSTOP);
        }
    }
    // Stop with the signal's default action, so the shell reports the job as stopped.
    let old = sys::set_sig_handler(sig, libc::SIG_DFL);
    // SAFETY: raise(3) with a valid signal; it stays pending while blocked.
    unsafe { libc::raise(sig) };
    let one = sys::sigset(&[sig]);
    let _ = sys::sigmask(libc::SIG_UNBLOCK, &one);
    // (stopped here until SIGCONT)
    let _ = sys::sigmask(libc::SIG_BLOCK, &one);
    if let Ok(h) = old {
        let _ = sys::set_sig_handler(sig, h);
    }
    if let Some(init) = init {
        continue_container(init);
    }
    stopped_at.elapsed()
}

fn continue_container(init: i32) {
    for pid in crate::watchdog::tree(init) {
        sys::kill(pid, libc::SIGCONT);
    }
}

fn supervise(cfg: &Config, shim: libc::pid_t, msg_rd: RawFd, sfd: RawFd, watchdog: Option<u64>, start: Instant) -> Outcome {
    let mut deadline = cfg.timeout.map(|t| start + t);
    let mut out = Outcome {
        container_started: false,
        stop: None,
        exit: None,
        error: None,
    };
    let mut polite_sent: Option<Instant> = None;
    let mut kill_sent: Option<Instant> = None;
    let mut hard_killed = false;
    let mut init_pid: Option<i32> = None;
    let mut reader = Reader::default();
    let kill = |out: &mut Outcome, kill_sent: &mut Option<Instant>, why: Stop| {
        if out.stop.is_none() {
            out.stop = Some(why);
        }
        if kill_sent.is_none() {
            // (our own unreaped child)
            sys::kill(shim, libc::SIGUSR1);
            *kill_sent = Some(Instant::now());
        }
    };
    loop {
        let now = Instant::now();
        let mut wait: Option<Duration> = None;
        let mut shorten = |d: Duration| wait = Some(wait.map_or(d, |w: Duration| w.min(d)));
        match (kill_sent, polite_sent) {
            (Some(t), _) if !hard_killed => {
                if now >= t + KILL_GRACE {
                    // The shim did not answer: kill it; init follows through its PDEATHSIG.
                    sys::kill(shim, libc::SIGKILL);
                    hard_killed = true;
                } else {
                    shorten(t + KILL_GRACE - now);
                }
            }
            (Some(_), _) => {}
            (None, Some(t)) => {
                if now >= t + STOP_GRACE {
                    kill(&mut out, &mut kill_sent, Stop::Timeout);
                    continue;
                }
                shorten(t + STOP_GRACE - now);
            }
            (None, None) => {
                if let Some(d) = deadline {
                    if now >= d {
                        // Ask politely first: the program may write out what it buffered.
                        out.stop = Some(Stop::Timeout);
                        sys::kill(shim, libc::SIGUSR2);
                        polite_sent = Some(now);
                        continue;
                    }
                    shorten(d - now);
                }
                if watchdog.is_some() {
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
            kill(&mut out, &mut kill_sent, Stop::Timeout);
            break;
        }
        if nfds == 2 && fds[1].revents & libc::POLLIN != 0 {
            // SAFETY: signalfd_siginfo is plain data, filled in by read.
            let mut info: libc::signalfd_siginfo = unsafe { std::mem::zeroed() };
            let size = std::mem::size_of::<libc::signalfd_siginfo>();
            // SAFETY: info is a writable buffer of `size` bytes.
            let n = unsafe { libc::read(sfd, (&mut info as *mut libc::signalfd_siginfo).cast(), size) };
            if n == size as isize {
                let sig = info.ssi_signo as libc::c_int;
                if JOB_SIGNALS.contains(&sig) {
                    if out.exit.is_none() && kill_sent.is_none() {
                        let stopped = job_stop(init_pid, sig);
                        deadline = deadline.map(|d| d + stopped);
                    }
                } else if sig == libc::SIGCONT {
                    if let Some(init) = init_pid.filter(|_| out.exit.is_none()) {
                        continue_container(init);
                    }
                } else {
                    kill(&mut out, &mut kill_sent, Stop::Signal(sig));
                }
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
                    Msg::ContainerPid(p) => {
                        init_pid = Some(p);
                        out.container_started = true;
                    }
                    Msg::Error { kind, step, detail } => {
                        if out.error.is_none() {
                            out.error = Some(SandboxError::from_wire(kind, step, detail));
                        }
                    }
                    Msg::Exit { status, cpu_micros } => out.exit = Some((status, cpu_micros)),
                }
            }
        }
        if let (Some(limit), None) = (watchdog, kill_sent) {
            // While loading, the shim is the container; then init and its descendants.
            let pid = init_pid.unwrap_or(shim);
            if out.exit.is_none() && crate::watchdog::tree_rss(pid) > limit {
                kill(&mut out, &mut kill_sent, Stop::Memory);
            }
        }
    }
    out
}
