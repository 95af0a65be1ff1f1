//! Loading under limits: the program is read, compiled and verified in a forked child process
//! with `--memory` (as `RLIMIT_AS` on top of what pvm has mapped already), `--cpu-time`
//! (`RLIMIT_CPU`) and `--timeout` (the parent kills it at the deadline), so that a hostile
//! program cannot exhaust the machine before the container exists. The child sends the
//! encoded module back through a pipe.

use crate::Fail;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

pub struct Limits {
    pub memory: u64,
    pub timeout: Option<Duration>,
    pub cpu_time: Option<u64>,
}

pub enum Stopped {
    /// Loading failed; the child printed why.
    Failed(Fail),
    /// A limit stopped it: the message and the status.
    Limit(String, u8),
}

/// Exit status of a child whose loading failed with a message already printed.
const CHILD_FAILED: i32 = 2;

fn address_space_now() -> u64 {
    // SAFETY: sysconf has no memory-safety preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(4096) as u64;
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse::<u64>().ok()))
        .map(|pages| pages * page)
        .unwrap_or(64 << 20)
}

fn set_limit(res: libc::__rlimit_resource_t, v: u64) {
    let rl = libc::rlimit { rlim_cur: v, rlim_max: v };
    // SAFETY: rl is a valid rlimit; lowering a limit needs no privilege.
    unsafe { libc::setrlimit(res, &rl) };
}

/// Run `load` in a child under the limits; returns what it produced.
///
/// Must be called while the process is single-threaded (it forks).
pub fn bounded(limits: &Limits, load: impl FnOnce() -> Result<Vec<u8>, Fail>) -> Result<Vec<u8>, Stopped> {
    let started = Instant::now();
    let mut fds = [0; 2];
    // SAFETY: fds has room for two descriptors.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(Stopped::Limit(
            format!("error: cannot create a pipe: {}\n", std::io::Error::last_os_error()),
            125,
        ));
    }
    // SAFETY: both descriptors were just created and are owned here only.
    let (rd, wr) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    let fence = address_space_now().saturating_add(limits.memory);
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    // SAFETY: the caller guarantees a single-threaded process, so the child has no lock held
    // by a thread that does not exist in it.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(Stopped::Limit(
            format!("error: cannot fork: {}\n", std::io::Error::last_os_error()),
            125,
        ));
    }
    if pid == 0 {
        drop(rd);
        set_limit(libc::RLIMIT_AS, fence);
        set_limit(libc::RLIMIT_CORE, 0);
        if let Some(c) = limits.cpu_time {
            set_limit(libc::RLIMIT_CPU, c);
        }
        let code = match load() {
            Ok(bytes) => {
                let mut f = std::fs::File::from(wr);
                if f.write_all(&bytes).is_ok() {
                    0
                } else {
                    CHILD_FAILED
                }
            }
            Err(Fail::Status(msg, code)) => {
                eprint!("{msg}");
                i32::from(code)
            }
        };
        let _ = std::io::stderr().flush();
        // SAFETY: _exit ends the child without running the parent's destructors.
        unsafe { libc::_exit(code) };
    }
    drop(wr);
    let deadline = limits.timeout.map(|t| started + t);
    let mut out = Vec::new();
    let mut timed_out = false;
    loop {
        let wait_ms = match deadline {
            Some(d) => {
                let now = Instant::now();
                if now >= d {
                    timed_out = true;
                    break;
                }
                (d - now).as_millis().clamp(1, i32::MAX as u128) as i32
            }
            None => -1,
        };
        let mut pfd = libc::pollfd {
            fd: rd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: pfd is one valid pollfd.
        let r = unsafe { libc::poll(&mut pfd, 1, wait_ms) };
        if r < 0 {
            if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            break;
        }
        if r == 0 {
            continue;
        }
        let mut buf = [0u8; 1 << 16];
        // SAFETY: buf is writable for its length.
        let n = unsafe { libc::read(rd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        if n < 0 {
            if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            break;
        }
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n as usize]);
    }
    if timed_out {
        // SAFETY: pid is our own unreaped child.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    let mut status = 0;
    // SAFETY: pid is our child; status is a valid out-pointer.
    while unsafe { libc::waitpid(pid, &mut status, 0) } < 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {}
    if timed_out {
        let t = limits.timeout.unwrap_or_default();
        return Err(Stopped::Limit(
            format!("error: time limit exceeded ({} s) while loading the program\n", t.as_secs()),
            124,
        ));
    }
    if libc::WIFEXITED(status) {
        return match libc::WEXITSTATUS(status) {
            0 => Ok(out),
            c => Err(Stopped::Failed(Fail::Status(String::new(), c.clamp(1, 255) as u8))),
        };
    }
    let sig = libc::WTERMSIG(status);
    if sig == libc::SIGXCPU || (sig == libc::SIGKILL && limits.cpu_time.is_some()) {
        return Err(Stopped::Limit(
            format!(
                "error: time limit exceeded ({} s of CPU time) while loading the program\n",
                limits.cpu_time.unwrap_or(0)
            ),
            124,
        ));
    }
    // Rust aborts (SIGABRT) when an allocation fails under RLIMIT_AS.
    Err(Stopped::Limit(
        format!(
            "error: memory limit exceeded ({}) while loading the program (stopped by signal {sig})\n",
            pvm_sandbox::format_size(limits.memory)
        ),
        137,
    ))
}
