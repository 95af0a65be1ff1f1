//! Small checked wrappers around raw system calls shared by the other modules.
//! Every `unsafe` block of the crate that is not specific to one job lives here.

use std::ffi::CString;
use std::io;
use std::os::fd::RawFd;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Turn a `-1`-on-error return value into an `io::Result`.
pub(crate) fn cvt(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// Same as [`cvt`] for `syscall(2)`, which returns a `c_long`.
pub(crate) fn cvt_long(ret: libc::c_long) -> io::Result<libc::c_long> {
    if ret == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

pub(crate) fn cstring(p: &Path) -> io::Result<CString> {
    CString::new(p.as_os_str().as_bytes()).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path contains a NUL byte"))
}

/// Number of threads of this process, from `/proc/self/status`.
pub(crate) fn thread_count() -> io::Result<usize> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "no Threads: line"))
}

/// Terminate the calling process immediately, without running atexit handlers or destructors
/// (which belong to the parent's copy of the program state).
pub(crate) fn exit_now(code: i32) -> ! {
    // SAFETY: _exit is async-signal-safe, takes no pointers and never returns.
    unsafe { libc::_exit(code) }
}

/// fork(2). Returns 0 in the child and the child's pid in the parent.
///
/// # Safety
/// The process must be single-threaded (checked by `run` before the first fork), so that no
/// lock is held by a thread that does not exist in the child.
pub(crate) unsafe fn fork() -> io::Result<libc::pid_t> {
    // SAFETY: caller guarantees single-threadedness (see above).
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(pid)
    }
}

/// Ask the kernel to send `sig` to this process when its parent (thread) exits.
pub(crate) fn set_pdeathsig(sig: libc::c_int) -> io::Result<()> {
    // SAFETY: PR_SET_PDEATHSIG takes a plain integer argument.
    cvt(unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, sig as libc::c_ulong, 0, 0, 0) }).map(drop)
}

/// Write the whole buffer to `fd` (retrying on EINTR and short writes).
pub(crate) fn write_all(fd: RawFd, mut buf: &[u8]) -> io::Result<()> {
    while !buf.is_empty() {
        // SAFETY: buf is a valid readable slice of buf.len() bytes.
        let n = unsafe { libc::write(fd, buf.as_ptr().cast(), buf.len()) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        buf = &buf[n as usize..];
    }
    Ok(())
}

/// Read into `buf`, retrying on EINTR. Returns 0 at end of file.
pub(crate) fn read_some(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        // SAFETY: buf is a valid writable slice of buf.len() bytes.
        let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        if n >= 0 {
            return Ok(n as usize);
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

pub(crate) fn close(fd: RawFd) {
    // SAFETY: closing an fd we own; errors (EBADF) are irrelevant here.
    unsafe { libc::close(fd) };
}

/// A pipe whose ends are both close-on-exec: `(read, write)`.
pub(crate) fn pipe() -> io::Result<(RawFd, RawFd)> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: fds points to two writable c_ints.
    cvt(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) })?;
    Ok((fds[0], fds[1]))
}

/// Close every file descriptor >= 3 except those in `keep`.
/// Uses close_range(2) (Linux 5.9+) and falls back to closing each fd up to RLIMIT_NOFILE.
pub(crate) fn close_fds_except(keep: &[RawFd]) {
    let mut keep: Vec<RawFd> = keep.iter().copied().filter(|&fd| fd >= 3).collect();
    keep.sort_unstable();
    keep.dedup();
    let mut first: u32 = 3;
    let mut ranges = Vec::new();
    for &k in &keep {
        let k = k as u32;
        if k > first {
            ranges.push((first, k - 1));
        }
        first = k + 1;
    }
    ranges.push((first, u32::MAX));
    for (lo, hi) in ranges {
        // SAFETY: close_range takes plain integers; it only closes fds of this process.
        let r = unsafe { libc::syscall(libc::SYS_close_range, lo, hi, 0u32) };
        if r == 0 {
            continue;
        }
        let max = open_files_soft_limit().min(1 << 20);
        let hi = (hi as u64).min(max) as RawFd;
        for fd in lo as RawFd..=hi {
            close(fd);
        }
    }
}

fn open_files_soft_limit() -> u64 {
    let mut rl = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: rl is a valid rlimit to fill in.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl) } == 0 && rl.rlim_cur != libc::RLIM_INFINITY {
        rl.rlim_cur
    } else {
        65536
    }
}

/// Start time (field 22 of /proc/PID/stat, in clock ticks since boot) of a process, used to
/// tell a live process from a later one that reused its pid.
pub(crate) fn process_start_time(pid: libc::pid_t) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may contain spaces and parentheses: skip past the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    // rest starts with field 3 (state); start time is field 22, i.e. index 19 in rest.
    rest.split_whitespace().nth(19)?.parse().ok()
}

pub(crate) fn getpid() -> libc::pid_t {
    // SAFETY: getpid cannot fail.
    unsafe { libc::getpid() }
}

/// Signal set helpers (sigset_t is opaque; these wrap sigemptyset/sigaddset).
pub(crate) fn sigset(signals: &[libc::c_int]) -> libc::sigset_t {
    // SAFETY: sigset_t is plain data; sigemptyset initialises it before any use.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: set is a valid sigset_t.
    unsafe { libc::sigemptyset(&mut set) };
    for &s in signals {
        // SAFETY: set is initialised; s is a valid signal number.
        unsafe { libc::sigaddset(&mut set, s) };
    }
    set
}

/// sigprocmask(how, set) returning the previous mask.
pub(crate) fn sigmask(how: libc::c_int, set: &libc::sigset_t) -> io::Result<libc::sigset_t> {
    // SAFETY: sigset_t is plain data, filled in by sigprocmask.
    let mut old: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers are valid sigset_t's.
    let r = unsafe { libc::pthread_sigmask(how, set, &mut old) };
    if r != 0 {
        return Err(io::Error::from_raw_os_error(r));
    }
    Ok(old)
}

/// The current disposition of `sig` (handler address, SIG_DFL or SIG_IGN).
pub(crate) fn sig_disposition(sig: libc::c_int) -> io::Result<libc::sighandler_t> {
    // SAFETY: sigaction is plain data filled in by the kernel.
    let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: a null new action only queries; old is valid.
    cvt(unsafe { libc::sigaction(sig, std::ptr::null(), &mut old) })?;
    Ok(old.sa_sigaction)
}

/// Set the disposition of `sig` to a plain handler (or SIG_DFL / SIG_IGN), returning the old one.
pub(crate) fn set_sig_handler(sig: libc::c_int, handler: libc::sighandler_t) -> io::Result<libc::sighandler_t> {
    // SAFETY: sigaction is plain data; we fill in the handler and an empty mask.
    let mut act: libc::sigaction = unsafe { std::mem::zeroed() };
    act.sa_sigaction = handler;
    act.sa_flags = libc::SA_RESTART;
    // SAFETY: act.sa_mask is a valid sigset_t.
    unsafe { libc::sigemptyset(&mut act.sa_mask) };
    // SAFETY: as above, for the old action.
    let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers are valid sigaction structs.
    cvt(unsafe { libc::sigaction(sig, &act, &mut old) })?;
    Ok(old.sa_sigaction)
}

/// fstat(2) (works on O_PATH descriptors too).
pub(crate) fn fstat(fd: RawFd) -> io::Result<libc::stat> {
    // SAFETY: stat is plain data filled in by the kernel.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: st is a valid out-pointer.
    cvt(unsafe { libc::fstat(fd, &mut st) })?;
    Ok(st)
}

/// open(2) of a path with raw flags; the caller owns the returned descriptor.
pub(crate) fn open_raw(p: &Path, flags: libc::c_int) -> io::Result<RawFd> {
    let c = cstring(p)?;
    // SAFETY: c is NUL-terminated; the mode argument is ignored without O_CREAT.
    cvt(unsafe { libc::open(c.as_ptr(), flags | libc::O_CLOEXEC, 0) })
}

/// Send `sig` to a process; errors (ESRCH) are ignored.
pub(crate) fn kill(pid: libc::pid_t, sig: libc::c_int) {
    if pid > 0 {
        // SAFETY: plain kill(2) with a positive pid.
        unsafe { libc::kill(pid, sig) };
    }
}

/// Saved terminal settings of the first standard stream that is a terminal.
pub(crate) struct TermState {
    fd: RawFd,
    termios: libc::termios,
}

impl TermState {
    pub(crate) fn save() -> Option<TermState> {
        for fd in 0..3 {
            // SAFETY: termios is plain data filled in by tcgetattr.
            let mut t: libc::termios = unsafe { std::mem::zeroed() };
            // SAFETY: t is a valid out-pointer; fd is one of the standard descriptors.
            if unsafe { libc::tcgetattr(fd, &mut t) } == 0 {
                return Some(TermState { fd, termios: t });
            }
        }
        None
    }

    /// Put the settings back if they changed. SIGTTOU is blocked meanwhile, so that a pvm in
    /// the background is not stopped for it (the kernel allows the change then).
    pub(crate) fn restore(&self) {
        // SAFETY: as in save.
        let mut now: libc::termios = unsafe { std::mem::zeroed() };
        // SAFETY: valid out-pointer.
        if unsafe { libc::tcgetattr(self.fd, &mut now) } != 0 {
            return;
        }
        let same = now.c_iflag == self.termios.c_iflag
            && now.c_oflag == self.termios.c_oflag
            && now.c_cflag == self.termios.c_cflag
            && now.c_lflag == self.termios.c_lflag
            && now.c_cc == self.termios.c_cc;
        if same {
            return;
        }
        let old = sigmask(libc::SIG_BLOCK, &sigset(&[libc::SIGTTOU]));
        // (TCSANOW: waiting for output to drain could block on a terminal stopped with ^S.)
        // SAFETY: self.termios was filled in by tcgetattr on this fd.
        unsafe { libc::tcsetattr(self.fd, libc::TCSANOW, &self.termios) };
        if let Ok(m) = old {
            let _ = sigmask(libc::SIG_SETMASK, &m);
        }
    }
}

/// Whether this process is in the initial user namespace (its uid map is the identity over
/// every id), i.e. whether uid 0 here is the host's root.
pub(crate) fn in_initial_userns() -> bool {
    std::fs::read_to_string("/proc/self/uid_map")
        .map(|m| {
            let f: Vec<&str> = m.split_whitespace().collect();
            f == ["0", "0", "4294967295"]
        })
        .unwrap_or(false)
}

const OPEN_TREE_CLONE: libc::c_uint = 1;
const MOVE_MOUNT_F_EMPTY_PATH: libc::c_uint = 0x4;

/// open_tree(2) with OPEN_TREE_CLONE: a detached copy of the mount tree at `fd` (recursive).
pub(crate) fn open_tree_clone(fd: RawFd) -> io::Result<RawFd> {
    let flags =
        OPEN_TREE_CLONE | libc::O_CLOEXEC as libc::c_uint | libc::AT_EMPTY_PATH as libc::c_uint | libc::AT_RECURSIVE as libc::c_uint;
    // SAFETY: an empty NUL-terminated path and plain integer flags.
    cvt_long(unsafe { libc::syscall(libc::SYS_open_tree, fd, c"".as_ptr(), flags) }).map(|r| r as RawFd)
}

/// move_mount(2) of a detached tree onto `to`.
pub(crate) fn move_mount_to(tree: RawFd, to: &Path) -> io::Result<()> {
    let c = cstring(to)?;
    // SAFETY: both paths are NUL-terminated; the flags are plain integers.
    cvt_long(unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            tree,
            c"".as_ptr(),
            libc::AT_FDCWD,
            c.as_ptr(),
            MOVE_MOUNT_F_EMPTY_PATH,
        )
    })
    .map(drop)
}
