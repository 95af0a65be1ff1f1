//! Issue 9, item 8: on a terminal, a sandboxed `pvm run` behaves as any foreground program.
//! An interactive bash runs on a pseudo-terminal (as the invoking user, and as uid 65534);
//! the test types into it as a user would: a background pvm that reads the terminal is
//! stopped (the line goes to the shell), Ctrl-Z stops the whole container and `fg` resumes
//! it, Ctrl-C ends it with status 130.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::PathBuf;
use std::time::{Duration, Instant};

const PVM: &str = env!("CARGO_BIN_EXE_pvm");

fn is_root() -> bool {
    // SAFETY: geteuid cannot fail.
    unsafe { libc::geteuid() == 0 }
}

struct Shell {
    master: OwnedFd,
    pid: libc::pid_t,
    seen: Vec<u8>,
}

impl Shell {
    fn start(nobody: bool) -> Shell {
        let mut master = -1;
        let ws = libc::winsize {
            ws_row: 40,
            ws_col: 200,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        let mut argv: Vec<std::ffi::CString> = Vec::new();
        if nobody && is_root() {
            for a in ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] {
                argv.push(std::ffi::CString::new(a).expect("arg"));
            }
        }
        for a in ["bash", "--norc", "--noprofile", "-i"] {
            argv.push(std::ffi::CString::new(a).expect("arg"));
        }
        let mut ptrs: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
        ptrs.push(std::ptr::null());
        let env: Vec<std::ffi::CString> = ["PS1=$ ", "TERM=dumb", "PATH=/usr/bin:/bin", "HOME=/tmp", "PVM_QUIET_FALLBACK=1"]
            .iter()
            .map(|e| std::ffi::CString::new(*e).expect("env"))
            .collect();
        let mut envp: Vec<*const libc::c_char> = env.iter().map(|e| e.as_ptr()).collect();
        envp.push(std::ptr::null());
        // SAFETY: forkpty in a test process; the child only calls async-signal-safe execve.
        let pid = unsafe { libc::forkpty(&mut master, std::ptr::null_mut(), std::ptr::null(), &ws) };
        assert!(pid >= 0, "forkpty");
        if pid == 0 {
            // SAFETY: argv/envp are NUL-terminated arrays of C strings that outlive the call.
            unsafe {
                libc::execvpe(ptrs[0], ptrs.as_ptr(), envp.as_ptr());
                libc::_exit(127);
            }
        }
        // SAFETY: master was just returned by forkpty and is owned here only.
        let master = unsafe { OwnedFd::from_raw_fd(master) };
        // SAFETY: fcntl on our own descriptor.
        unsafe { libc::fcntl(master.as_raw_fd(), libc::F_SETFL, libc::O_NONBLOCK) };
        let mut sh = Shell {
            master,
            pid,
            seen: Vec::new(),
        };
        sh.expect("$ ", 10);
        sh
    }

    fn send(&mut self, s: &str) {
        // SAFETY: writing a valid buffer to our own descriptor.
        let n = unsafe { libc::write(self.master.as_raw_fd(), s.as_ptr().cast(), s.len()) };
        assert_eq!(n, s.len() as isize, "write to the pty");
    }

    fn pump(&mut self, ms: i32) {
        let mut pfd = libc::pollfd {
            fd: self.master.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        if unsafe { libc::poll(&mut pfd, 1, ms) } > 0 {
            let mut buf = [0u8; 4096];
            // SAFETY: buf is writable for its length.
            let n = unsafe { libc::read(self.master.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
            if n > 0 {
                self.seen.extend_from_slice(&buf[..n as usize]);
            }
        }
    }

    /// Waits until `needle` appears after what was seen so far began; returns the text since.
    fn expect_from(&mut self, mark: usize, needle: &str, secs: u64) -> String {
        let start = Instant::now();
        loop {
            let text = String::from_utf8_lossy(&self.seen[mark..]).into_owned();
            if text.contains(needle) {
                return text;
            }
            assert!(
                start.elapsed() < Duration::from_secs(secs),
                "no {needle:?} on the terminal; it shows:\n{text}"
            );
            self.pump(50);
        }
    }

    fn expect(&mut self, needle: &str, secs: u64) -> String {
        let mark = self.seen.len();
        self.expect_from(mark, needle, secs)
    }

    fn idle(&mut self, ms: u64) -> String {
        let mark = self.seen.len();
        let start = Instant::now();
        while start.elapsed() < Duration::from_millis(ms) {
            self.pump(20);
        }
        String::from_utf8_lossy(&self.seen[mark..]).into_owned()
    }
}

impl Drop for Shell {
    fn drop(&mut self) {
        // SAFETY: kill(2) and waitpid(2) of our own child.
        unsafe {
            libc::kill(self.pid, libc::SIGKILL);
            let mut st = 0;
            libc::waitpid(self.pid, &mut st, 0);
        }
    }
}

fn program(name: &str, src: &str) -> String {
    let dir = PathBuf::from(format!("/tmp/pvm-term-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("mkdir");
    let p = dir.join("app.pvm");
    std::fs::write(&p, src).expect("write");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    p.display().to_string()
}

fn background_read_is_stopped(nobody: bool) {
    let app = program(
        &format!("bg{nobody}"),
        "fn main() { let l = read_line(); println(\"got:\" + l); }\n",
    );
    let mut sh = Shell::start(nobody);
    sh.send(&format!("{PVM} run {app} &\n"));
    sh.expect("$ ", 10);
    // Give the job time to reach its read (and be stopped).
    sh.idle(1500);
    let mark = sh.seen.len();
    sh.send("echo typed-$((40+2))\n");
    let text = sh.expect_from(mark, "typed-42", 10);
    assert!(
        !text.contains("got:"),
        "the background pvm read the line typed for the shell:\n{text}"
    );
    sh.send("jobs\n");
    sh.expect("Stopped", 10);
    sh.send("fg\n");
    sh.idle(500);
    sh.send("hello\n");
    sh.expect("got:hello", 20);
}

fn ctrl_z_stops_the_container(nobody: bool) {
    let src = "fn main() { let n = 0; while true { let t = clock(); while clock() - t < 0.1 { } println(\"tick \" + str(n)); n += 1; } }\n";
    // The path must not contain "tick": bash echoes the job's command line on `fg`, and a
    // "tick" in it would pass the wait below before bash has handed the terminal back to the
    // job, so the Ctrl-C would go to bash instead.
    let app = program(&format!("clock{nobody}"), src);
    let mut sh = Shell::start(nobody);
    sh.send(&format!("{PVM} run {app}\n"));
    sh.expect("tick 3", 30);
    sh.send("\x1a");
    sh.expect("Stopped", 10);
    sh.idle(300);
    let quiet = sh.idle(1500);
    assert!(!quiet.contains("tick"), "the program kept running after Ctrl-Z:\n{quiet}");
    sh.send("fg\n");
    sh.expect("tick ", 10);
    sh.send("\x03");
    sh.expect("$ ", 10);
    sh.send("echo status=$?\n");
    sh.expect("status=130", 10);
    // The terminal still echoes what is typed (its settings are what they were).
    sh.send("echo still-$((1+1))\n");
    sh.expect("still-2", 10);
}

#[test]
fn background_read_is_stopped_as_invoker() {
    background_read_is_stopped(false);
}

#[test]
fn background_read_is_stopped_as_unprivileged() {
    background_read_is_stopped(true);
}

#[test]
fn ctrl_z_stops_the_container_as_invoker() {
    ctrl_z_stops_the_container(false);
}

#[test]
fn ctrl_z_stops_the_container_as_unprivileged() {
    ctrl_z_stops_the_container(true);
}
