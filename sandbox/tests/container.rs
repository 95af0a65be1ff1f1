//! End-to-end tests of the container. Each case spawns the probe binary
//! (`src/bin/pvm-sandbox-probe.rs`), which calls `pvm_sandbox::run` with a body that performs
//! one check and exits 0 (passed) or 1 (failed, with the reason on stderr). Every case runs
//! twice: as the invoking user (root in CI) and as an unprivileged user (uid/gid 65534 via
//! `setpriv`). Where the kernel refuses unprivileged user namespaces, the unprivileged variant
//! asserts the exact refusal message instead of being skipped.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const PROBE: &str = env!("CARGO_BIN_EXE_pvm-sandbox-probe");
const NOBODY: u32 = 65534;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum User {
    /// Whoever runs the tests (root in CI).
    Invoker,
    /// uid/gid 65534, no supplementary groups.
    Nobody,
}

fn is_root() -> bool {
    // SAFETY: geteuid cannot fail.
    unsafe { libc::geteuid() == 0 }
}

fn command(user: User) -> Command {
    if user == User::Nobody && is_root() {
        let mut c = Command::new("setpriv");
        c.args([format!("--reuid={NOBODY}"), format!("--regid={NOBODY}"), "--clear-groups".into()]);
        c.arg(PROBE);
        c
    } else {
        // Not root: the invoker already is an unprivileged user.
        Command::new(PROBE)
    }
}

fn wait_with_timeout(mut child: Child, limit: Duration) -> Output {
    let start = Instant::now();
    let mut out = child.stdout.take();
    let mut err = child.stderr.take();
    let t_out = std::thread::spawn(move || {
        let mut s = Vec::new();
        if let Some(o) = out.as_mut() {
            let _ = o.read_to_end(&mut s);
        }
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = Vec::new();
        if let Some(e) = err.as_mut() {
            let _ = e.read_to_end(&mut s);
        }
        s
    });
    let status = loop {
        if let Some(st) = child.try_wait().expect("try_wait") {
            break st;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("probe did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Output {
        status,
        stdout: t_out.join().unwrap_or_default(),
        stderr: t_err.join().unwrap_or_default(),
    }
}

fn run_probe(user: User, args: &[String], stdin: Option<&str>) -> Output {
    let mut cmd = command(user);
    cmd.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
    // A secret in the caller's environment, which the container must not see.
    cmd.env("PVM_PROBE_SECRET", "hunter2");
    cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
    let mut child = cmd.spawn().expect("spawn probe");
    if let (Some(input), Some(mut si)) = (stdin, child.stdin.take()) {
        si.write_all(input.as_bytes()).expect("write stdin");
    }
    wait_with_timeout(child, Duration::from_secs(120))
}

/// Whether the kernel lets uid 65534 create a user namespace (asked of util-linux's unshare,
/// independently of the code under test).
fn nobody_has_userns() -> bool {
    static ANSWER: OnceLock<bool> = OnceLock::new();
    *ANSWER.get_or_init(|| {
        let mut c = if is_root() {
            let mut c = Command::new("setpriv");
            c.args([
                format!("--reuid={NOBODY}"),
                format!("--regid={NOBODY}"),
                "--clear-groups".into(),
                "unshare".into(),
            ]);
            c
        } else {
            Command::new("unshare")
        };
        c.args(["--user", "--map-root-user", "true"])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        c.status().map(|s| s.success()).unwrap_or(false)
    })
}

fn assert_userns_refused(out: &Output) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(125),
        "expected the sandbox to refuse to start; stderr: {err}"
    );
    assert!(err.contains("user namespaces are refused"), "stderr: {err}");
    assert!(err.contains("sysctl"), "stderr: {err}");
    assert!(err.contains("--no-sandbox"), "stderr: {err}");
}

/// Run a case; for the unprivileged user on a kernel that refuses it user namespaces, assert
/// the refusal message and return None.
fn case(user: User, args: &[String], stdin: Option<&str>) -> Option<Output> {
    let out = run_probe(user, args, stdin);
    if user == User::Nobody && !nobody_has_userns() {
        assert_userns_refused(&out);
        return None;
    }
    Some(out)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn assert_code(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "exit status {:?}\nstdout: {}\nstderr: {}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
}

/// A per-test directory tree under /tmp, readable by the unprivileged user:
/// `<root>/prog/app.pvm` (the program directory) and `<root>/outside/marker`.
struct Fixture {
    root: PathBuf,
    prog: PathBuf,
    marker: PathBuf,
}

impl Fixture {
    fn new(name: &str) -> Fixture {
        use std::os::unix::fs::PermissionsExt;
        let root = PathBuf::from(format!("/tmp/pvm-sandbox-test-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let prog = root.join("prog");
        let outside = root.join("outside");
        for d in [&root, &prog, &outside] {
            std::fs::create_dir_all(d).expect("mkdir");
            std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        }
        std::fs::write(prog.join("app.pvm"), "program").expect("write");
        let marker = outside.join("marker");
        std::fs::write(&marker, "secret").expect("write");
        Fixture { root, prog, marker }
    }

    fn args(&self, extra: &[&str]) -> Vec<String> {
        let mut v = vec![
            "--program-dir".to_string(),
            self.prog.display().to_string(),
            "--quiet-fallback".into(),
        ];
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    }

    /// Host processes whose command line mentions this fixture (i.e. probes of this test).
    fn processes(&self) -> Vec<u32> {
        let needle = self.prog.display().to_string();
        let mut found = Vec::new();
        for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let Ok(cmd) = std::fs::read(e.path().join("cmdline")) else {
                continue;
            };
            if String::from_utf8_lossy(&cmd).contains(&needle) {
                found.push(pid);
            }
        }
        found
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// Defines `<name>_root` and `<name>_unprivileged`, each calling `$body(User)`.
macro_rules! both {
    ($($name:ident => $body:expr;)*) => {
        mod as_invoker {
            use super::*;
            $( #[test] fn $name() { ($body)(User::Invoker) } )*
        }
        mod as_unprivileged {
            use super::*;
            $( #[test] fn $name() { ($body)(User::Nobody) } )*
        }
    };
}

fn check(user: User, name: &str, extra: &[&str]) {
    let f = Fixture::new(name);
    if let Some(out) = case(user, &f.args(extra), None) {
        assert_code(&out, 0);
    }
}

fn denied(user: User, syscall: &str) {
    check(user, &format!("sys-{syscall}"), &["syscall", syscall]);
}

both! {
    trivial_body_runs => |u| check(u, "trivial", &["trivial"]);
    exit_status_is_returned => |u: User| {
        let f = Fixture::new("exit");
        if let Some(out) = case(u, &f.args(&["exit", "42"]), None) { assert_code(&out, 42); }
        if let Some(out) = case(u, &f.args(&["panic"]), None) { assert_code(&out, 101); }
        // abort() and kill(self, SIGTERM) still end the program although it is PID 1.
        if let Some(out) = case(u, &f.args(&["abort"]), None) { assert_code(&out, 134); }
        if let Some(out) = case(u, &f.args(&["sigterm-self"]), None) { assert_code(&out, 143); }
    };
    pid_namespace_hides_host_processes => |u| {
        let me = std::process::id().to_string();
        check(u, "pid", &["pid", &me])
    };
    no_host_files_reachable => |u: User| {
        let f = Fixture::new("fs");
        let marker = f.marker.display().to_string();
        if let Some(out) = case(u, &f.args(&["fs", &marker]), None) { assert_code(&out, 0); }
    };
    root_read_only_tmp_writable => |u| check(u, "ro", &["readonly"]);
    tmp_is_size_capped => |u| check(u, "tmpcap", &["--tmp-size", "1M", "tmpcap", "1M"]);
    allow_read_and_allow_write => |u| allow_paths(u, false);
    allow_paths_with_legacy_remount => |u| allow_paths(u, true);
    network_only_loopback => |u: User| {
        let f = Fixture::new("net");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("addr").port().to_string();
        if let Some(out) = case(u, &f.args(&["net", &port]), None) { assert_code(&out, 0); }
        assert!(listener.accept().is_err(), "the host listener received a connection");
    };
    capabilities_nnp_seccomp_in_status => |u| check(u, "status", &["status"]);
    hostname_is_isolated => |u| check(u, "hostname", &["hostname"]);
    no_descriptors_leaked => |u| check(u, "fds", &["--open-extra-fds", "fds"]);
    stdio_stays_connected => |u: User| {
        let f = Fixture::new("stdio");
        if let Some(out) = case(u, &f.args(&["echo-stdin"]), Some("hello sandbox\n")) {
            assert_code(&out, 0);
            assert_eq!(text(&out.stdout), "got: hello sandbox\n");
        }
    };
    rust_workload_runs_under_the_filter => |u| check(u, "workload", &["workload"]);
    cwd_is_the_callers => |u: User| {
        let f = Fixture::new("cwd");
        // Under /tmp (the private /tmp holds an empty stand-in) and elsewhere (the root holds
        // one), granted or not: the program starts in the caller's directory.
        let elsewhere = std::env::current_dir().expect("cwd");
        for (dir, grant) in [(&f.prog, false), (&elsewhere, false), (&f.prog, true)] {
            let mut cmd = command(u);
            let g = dir.display().to_string();
            let mut extra = vec![];
            if grant { extra = vec!["--allow-read", &g]; }
            extra.push("cwd");
            cmd.args(f.args(&extra)).current_dir(dir).stdout(Stdio::piped()).stderr(Stdio::piped());
            let out = wait_with_timeout(cmd.spawn().expect("spawn"), Duration::from_secs(60));
            if u == User::Nobody && !nobody_has_userns() { assert_userns_refused(&out); return; }
            assert_code(&out, 0);
            assert_eq!(text(&out.stdout).trim(), dir.display().to_string());
        }
    };
    memory_hog_is_stopped => |u: User| {
        let f = Fixture::new("memhog");
        if let Some(out) = case(u, &f.args(&["--memory", "64M", "memhog"]), None) {
            assert_code(&out, 137);
            assert!(text(&out.stderr).contains("error: memory limit exceeded (64 MiB)"), "stderr: {}", text(&out.stderr));
        }
        assert!(f.processes().is_empty(), "processes left: {:?}", f.processes());
    };
    fork_loop_is_stopped => |u: User| {
        let f = Fixture::new("forkloop");
        if let Some(out) = case(u, &f.args(&["--pids", "8", "forkloop", "8"]), None) {
            assert_code(&out, 0);
            assert!(text(&out.stdout).contains("forked 7 processes"), "stdout: {}", text(&out.stdout));
        }
        assert!(f.processes().is_empty(), "processes left: {:?}", f.processes());
    };
    endless_loop_is_stopped_by_timeout => |u: User| {
        let f = Fixture::new("timeout");
        if let Some(out) = case(u, &f.args(&["--timeout", "1", "spin"]), None) {
            assert_code(&out, 124);
            assert!(text(&out.stderr).contains("error: time limit exceeded (1 s)"), "stderr: {}", text(&out.stderr));
        }
        assert!(f.processes().is_empty(), "processes left: {:?}", f.processes());
    };
    endless_loop_is_stopped_by_cpu_time => |u: User| {
        let f = Fixture::new("cputime");
        if let Some(out) = case(u, &f.args(&["--cpu-time", "1", "spin"]), None) {
            assert_code(&out, 124);
            assert!(text(&out.stderr).contains("error: time limit exceeded (1 s of CPU time)"), "stderr: {}", text(&out.stderr));
        }
    };
    nothing_left_behind => check_nothing_left_behind;
    interrupted_supervisor_cleans_up => check_interrupted;
    parent_sigkill_leaves_nothing => check_parent_sigkill;
    threaded_caller_is_refused => |u: User| {
        let f = Fixture::new("threaded");
        let out = run_probe(u, &f.args(&["--thread-first", "trivial"]), None);
        assert_code(&out, 125);
        assert!(text(&out.stderr).contains("before any thread is started"), "stderr: {}", text(&out.stderr));
    };
    limits_are_described => |u: User| {
        let f = Fixture::new("describe");
        let out = run_probe(u, &f.args(&["--describe"]), None);
        assert_code(&out, 0);
        let s = text(&out.stdout);
        for l in ["memory", "processes", "cpu time", "wall time", "/tmp", "open files", "file size", "core dumps"] {
            assert!(s.lines().any(|x| x.starts_with(l)), "no {l} line in:\n{s}");
        }
        if u == User::Nobody && is_root() && !Path::new("/sys/fs/cgroup/cgroup.subtree_control").exists() {
            // uid 65534 owns no cgroup here: the fallbacks must be named, with the reason.
            assert!(s.contains("RLIMIT_NPROC") && s.contains("RLIMIT_AS") && s.contains("no cgroup"), "{s}");
            // ... and run() says so on stderr unless told to be quiet.
            let out = run_probe(u, &["--program-dir".into(), f.prog.display().to_string(), "trivial".into()], None);
            if nobody_has_userns() {
                assert_code(&out, 0);
                assert!(text(&out.stderr).contains("warning: sandbox runs without cgroup limits"), "{}", text(&out.stderr));
            }
        }
    };

    // Issue 9, item 2: the program's directory is not there; nothing of the host reaches it
    // through a Unix socket, a FIFO or a lock; the private /tmp stays private.
    unix_socket_in_a_granted_directory_is_unreachable => |u: User| {
        let f = Fixture::new("unixsock");
        let sock = f.prog.join("agent.sock");
        let listener = std::os::unix::net::UnixListener::bind(&sock).expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        set_mode(&sock, 0o777);
        let (p, s) = (f.prog.display().to_string(), sock.display().to_string());
        if let Some(out) = case(u, &f.args(&["--allow-read", &p, "unix-connect", &s]), None) { assert_code(&out, 0); }
        assert!(listener.accept().is_err(), "the host's socket received a connection");
    };
    fifo_and_locks_do_not_reach_the_host => |u: User| {
        let f = Fixture::new("fifo");
        let fifo = f.prog.join("pipe");
        let c = std::ffi::CString::new(fifo.display().to_string()).expect("path");
        // SAFETY: mkfifo with a valid path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o666) }, 0);
        set_mode(&fifo, 0o666);
        let reader = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(&fifo).expect("open fifo");
        let s = fifo.display().to_string();
        if let Some(out) = case(u, &f.args(&["fifo-write", &s]), None) { assert_code(&out, 0); }
        let mut got = Vec::new();
        let _ = (&reader).read_to_end(&mut got);
        assert!(got.is_empty(), "the host's FIFO received {:?}", text(&got));
        // Locks on a granted (read-only) file are denied.
        let data = f.prog.join("app.pvm").display().to_string();
        let p = f.prog.display().to_string();
        if let Some(out) = case(u, &f.args(&["--allow-read", &p, "locks", &data]), None) { assert_code(&out, 0); }
    };
    private_tmp_stays_private_for_a_program_in_tmp => |u: User| {
        // A program directly in /tmp, run from there: /tmp inside is still the private one.
        let host_file = PathBuf::from("/tmp").join(format!("pvm-sandbox-test-{}-private", std::process::id()));
        let mut cmd = command(u);
        cmd.args(["--program-dir", "/tmp", "--quiet-fallback", "readonly"]).current_dir("/tmp").stdout(Stdio::piped()).stderr(Stdio::piped());
        let out = wait_with_timeout(cmd.spawn().expect("spawn"), Duration::from_secs(60));
        if u == User::Nobody && !nobody_has_userns() { assert_userns_refused(&out); return; }
        assert_code(&out, 0);
        assert!(!Path::new("/tmp/d/f").exists() && !host_file.exists(), "the container wrote into the host's /tmp");
    };
    // Item 3: devices.
    devices_stay_hidden_and_every_mount_is_nodev => |u: User| {
        let f = Fixture::new("devices");
        if let Some(out) = case(u, &f.args(&["devices", "/dev/kmsg", "/dev/vcs"]), None) { assert_code(&out, 0); }
        if let Some(out) = case(u, &f.args(&["--allow-read", &f.prog.display().to_string(), "mount-flags"]), None) { assert_code(&out, 0); }
        for grant in ["/dev", "/dev/kmsg", "/dev/null", "/proc/self", "/sys"] {
            let out = run_probe(u, &f.args(&["--allow-read", grant, "trivial"]), None);
            assert_code(&out, 125);
            assert!(text(&out.stderr).contains("--allow-read"), "{grant}: {}", text(&out.stderr));
        }
        // A directory holding a device node is granted nodev: the node cannot be opened.
        let devdir = f.root.join("devdir");
        std::fs::create_dir_all(&devdir).expect("mkdir");
        set_mode(&devdir, 0o755);
        let node = devdir.join("kmsg");
        let c = std::ffi::CString::new(node.display().to_string()).expect("path");
        if is_root() {
            // SAFETY: mknod with a valid path (root only).
            assert_eq!(unsafe { libc::mknod(c.as_ptr(), libc::S_IFCHR | 0o666, libc::makedev(1, 11)) }, 0);
            let (d, n) = (devdir.display().to_string(), node.display().to_string());
            if let Some(out) = case(u, &f.args(&["--allow-read", &d, "devices", &n]), None) { assert_code(&out, 0); }
        }
    };
    // Item 4: a grant swapped for a symlink between the check and the bind.
    swapped_grant_is_never_redirected => check_swap;
    // Item 5: environment.
    environment_is_empty_unless_passed => |u: User| {
        let f = Fixture::new("env");
        if let Some(out) = case(u, &f.args(&["env"]), None) { assert_code(&out, 0); }
        if let Some(out) = case(u, &f.args(&["--env", "A=1", "--env", "PVM_PROBE_SECRET", "env", "A=1", "PVM_PROBE_SECRET=hunter2"]), None) {
            // (passed explicitly: then it is there, and only then)
            assert!(out.status.code() == Some(0) || text(&out.stderr).contains("initial environment block"), "{}", text(&out.stderr));
        }
    };
    // Item 6: no more than an ordinary user.
    kernel_files_are_unreadable => |u| check(u, "kernelfiles", &["kernel-files"]);
    // Item 7: memory outside the process: memfd denied, /tmp counted.
    memfd_is_denied => |u| check(u, "memfd", &["memfd"]);
    tmp_counts_against_memory => |u: User| {
        let f = Fixture::new("tmpfill");
        if let Some(out) = case(u, &f.args(&["--memory", "100M", "--tmp-size", "1G", "tmpfill", "100M"]), None) {
            let code = out.status.code();
            assert!(code == Some(0) || code == Some(137), "status {code:?}: {}{}", text(&out.stdout), text(&out.stderr));
        }
    };
    writable_and_executable_never_at_once => |u| check(u, "wx", &["wx"]);
    no_setuid_files_in_tmp_or_grants => |u: User| {
        let f = Fixture::new("setid");
        let w = f.root.join("w");
        std::fs::create_dir_all(&w).expect("mkdir");
        set_mode(&w, 0o777);
        let ws = w.display().to_string();
        if let Some(out) = case(u, &f.args(&["--allow-write", &ws, "setid", &ws]), None) { assert_code(&out, 0); }
        for e in std::fs::read_dir(&w).expect("list").flatten() {
            use std::os::unix::fs::MetadataExt;
            let m = e.metadata().expect("stat").mode();
            assert_eq!(m & 0o6000, 0, "{} is set-id on the host", e.path().display());
        }
    };
    // Item 8: the terminal.
    terminal_settings_cannot_be_changed => check_tty;
    // Item 9: statuses.
    killed_shim_is_a_container_failure => check_killed_shim;
    // Item 10: standard streams.
    directory_as_stdin_is_refused => |u: User| {
        let f = Fixture::new("stdindir");
        let mut cmd = command(u);
        cmd.args(f.args(&["stdin-walk"])).stdin(std::fs::File::open("/").expect("open /")).stdout(Stdio::piped()).stderr(Stdio::piped());
        let out = wait_with_timeout(cmd.spawn().expect("spawn"), Duration::from_secs(60));
        assert_code(&out, 125);
        assert!(text(&out.stderr).contains("standard input is a directory"), "{}", text(&out.stderr));
    };
    fallback_warning_is_shown_once => |u: User| {
        let f = Fixture::new("warnonce");
        if !(u == User::Nobody && is_root() && nobody_has_userns()) {
            return; // only uid 65534 lacks cgroups here
        }
        let marker = f.root.join("cache/pvm/warned");
        let m = marker.display().to_string();
        let base = vec!["--program-dir".to_string(), f.prog.display().to_string(), "--warn-marker".into(), m, "trivial".into()];
        std::fs::create_dir_all(f.root.join("cache")).expect("mkdir");
        set_mode(&f.root.join("cache"), 0o777);
        let first = run_probe(u, &base, None);
        assert_code(&first, 0);
        assert!(text(&first.stderr).contains("warning: sandbox runs without cgroup limits"), "{}", text(&first.stderr));
        let second = run_probe(u, &base, None);
        assert_code(&second, 0);
        assert!(!text(&second.stderr).contains("warning"), "{}", text(&second.stderr));
    };

    denies_ptrace => |u| denied(u, "ptrace");
    denies_mount => |u| denied(u, "mount");
    denies_umount2 => |u| denied(u, "umount2");
    denies_pivot_root => |u| denied(u, "pivot_root");
    denies_unshare => |u| denied(u, "unshare");
    denies_setns => |u| denied(u, "setns");
    denies_clone_newuser => |u| denied(u, "clone-newuser");
    denies_clone_newns => |u| denied(u, "clone-newns");
    denies_clone_newnet => |u| denied(u, "clone-newnet");
    denies_clone_newpid => |u| denied(u, "clone-newpid");
    denies_keyctl => |u| denied(u, "keyctl");
    denies_add_key => |u| denied(u, "add_key");
    denies_request_key => |u| denied(u, "request_key");
    denies_bpf => |u| denied(u, "bpf");
    denies_perf_event_open => |u| denied(u, "perf_event_open");
    denies_userfaultfd => |u| denied(u, "userfaultfd");
    denies_init_module => |u| denied(u, "init_module");
    denies_finit_module => |u| denied(u, "finit_module");
    denies_delete_module => |u| denied(u, "delete_module");
    denies_kexec_load => |u| denied(u, "kexec_load");
    denies_open_by_handle_at => |u| denied(u, "open_by_handle_at");
    denies_io_uring_setup => |u| denied(u, "io_uring_setup");
    denies_personality => |u| denied(u, "personality");
    denies_execve => |u| denied(u, "execve");
    denies_ioctl_tiocsti => |u| denied(u, "ioctl-tiocsti");
    denies_ioctl_tiocsti_with_high_bits => |u| denied(u, "ioctl-tiocsti-highbits");
    clone3_fails_with_enosys => |u| denied(u, "clone3");
}

fn set_mode(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// Issue 9, item 4: `--allow-read d` while another process swaps `d` (a directory holding
/// `file` = "public") with a symlink to a secret directory, atomically, in a loop. Every run
/// must either bind the directory it checked, or refuse (125): the secret never shows at `d`.
fn check_swap(u: User) {
    let f = Fixture::new("swap");
    let d = f.root.join("d");
    let other = f.root.join("other");
    let secret = f.root.join("secret");
    for dir in [&d, &secret] {
        std::fs::create_dir_all(dir).expect("mkdir");
        set_mode(dir, 0o755);
    }
    std::fs::write(d.join("file"), "public").expect("write");
    std::fs::write(secret.join("file"), "SECRET").expect("write");
    // Relative, so that it resolves wherever the host's tree is looked at from.
    std::os::unix::fs::symlink("secret", &other).expect("symlink");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (a, b) = (
        std::ffi::CString::new(d.display().to_string()).expect("path"),
        std::ffi::CString::new(other.display().to_string()).expect("path"),
    );
    let swapper = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut swaps = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                // SAFETY: both paths are valid C strings; RENAME_EXCHANGE swaps them atomically.
                unsafe { libc::renameat2(libc::AT_FDCWD, a.as_ptr(), libc::AT_FDCWD, b.as_ptr(), libc::RENAME_EXCHANGE) };
                swaps += 1;
            }
            swaps
        })
    };
    let (ds, file) = (d.display().to_string(), d.join("file").display().to_string());
    let (mut public, mut refused, mut absent) = (0, 0, 0);
    for _ in 0..150 {
        let out = run_probe(u, &f.args(&["--allow-read", &ds, "read-file", &file]), None);
        if u == User::Nobody && !nobody_has_userns() {
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            let _ = swapper.join();
            assert_userns_refused(&out);
            return;
        }
        let o = text(&out.stdout);
        assert!(!o.contains("SECRET"), "the swapped-in directory was bound at {ds}: {o}");
        match out.status.code() {
            Some(0) => {
                assert_eq!(o, "public");
                public += 1;
            }
            Some(125) => refused += 1,
            // `d` resolved to the secret directory when pvm opened it: that is bound at its
            // own path, so nothing is at `d` inside.
            Some(1) => absent += 1,
            other => panic!("status {other:?}: {}", text(&out.stderr)),
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let swaps = swapper.join().expect("swapper");
    eprintln!("swap: {public} public, {refused} refused, {absent} absent, {swaps} swaps");
    assert!(public > 0, "no run saw the real directory");
}

/// Issue 9, item 8: on a terminal, the program cannot change its settings or size (nor type
/// into it), and the settings are the same after the run.
fn check_tty(u: User) {
    let (mut master, mut slave) = (0, 0);
    // SAFETY: openpty fills in two descriptors; null name/termios/winsize are allowed.
    let r = unsafe { libc::openpty(&mut master, &mut slave, std::ptr::null_mut(), std::ptr::null(), std::ptr::null()) };
    assert_eq!(r, 0, "openpty");
    // SAFETY: both descriptors were just created and are owned here only.
    let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
    let ws = libc::winsize {
        ws_row: 24,
        ws_col: 80,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: valid descriptor and winsize.
    unsafe { libc::ioctl(slave.as_raw_fd(), libc::TIOCSWINSZ, &ws) };
    // SAFETY: termios is plain data filled in by tcgetattr.
    let mut before: libc::termios = unsafe { std::mem::zeroed() };
    // SAFETY: valid descriptor and out-pointer.
    assert_eq!(unsafe { libc::tcgetattr(slave.as_raw_fd(), &mut before) }, 0);
    let f = Fixture::new("tty");
    let mut cmd = command(u);
    cmd.args(f.args(&["tty-settings"]))
        .stdin(std::fs::File::from(slave.try_clone().expect("dup")))
        .stdout(std::fs::File::from(slave.try_clone().expect("dup")))
        .stderr(Stdio::piped());
    let child = cmd.spawn().expect("spawn");
    let out = wait_with_timeout(child, Duration::from_secs(60));
    // Drain what the probe printed on the terminal.
    // SAFETY: fcntl on our own descriptor.
    unsafe { libc::fcntl(master.as_raw_fd(), libc::F_SETFL, libc::O_NONBLOCK) };
    let mut printed = Vec::new();
    // (kept open to the end: closing the master hangs the terminal up)
    let mut master = std::fs::File::from(master);
    let _ = master.read_to_end(&mut printed);
    if u == User::Nobody && !nobody_has_userns() {
        assert_userns_refused(&out);
        return;
    }
    assert_code(&out, 0);
    // SAFETY: as above.
    let mut after: libc::termios = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    assert_eq!(unsafe { libc::tcgetattr(slave.as_raw_fd(), &mut after) }, 0);
    assert_eq!(after.c_lflag, before.c_lflag, "terminal settings changed: {}", text(&printed));
    // SAFETY: winsize is plain data filled in by the ioctl.
    let mut ws2: libc::winsize = unsafe { std::mem::zeroed() };
    // SAFETY: valid descriptor and out-pointer.
    unsafe { libc::ioctl(slave.as_raw_fd(), libc::TIOCGWINSZ, &mut ws2) };
    assert_eq!((ws2.ws_row, ws2.ws_col), (24, 80), "window size changed");
    drop(master);
}

/// Issue 9, item 9: killing the shim (the middle process) is a failure of the container
/// runtime: status 125, not a compile error's 2, and nothing is left.
fn check_killed_shim(u: User) {
    let f = Fixture::new("killshim");
    let mut cmd = command(u);
    cmd.args(f.args(&["ready-then-sleep"]))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(Stdio::null());
    let mut child = cmd.spawn().expect("spawn");
    let pid = child.id();
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("read");
    if u == User::Nobody && !nobody_has_userns() {
        assert_userns_refused(&wait_with_timeout(child, Duration::from_secs(60)));
        return;
    }
    assert_eq!(line, "ready\n");
    let kids = |p: u32| -> Vec<u32> {
        std::fs::read_to_string(format!("/proc/{p}/task/{p}/children"))
            .unwrap_or_default()
            .split_whitespace()
            .filter_map(|x| x.parse().ok())
            .collect()
    };
    // The shim is the supervisor's child that has a child (init); the reaper has none.
    let shim = kids(pid).into_iter().find(|&c| !kids(c).is_empty()).expect("shim");
    // SAFETY: plain kill(2) of a process of this test.
    unsafe { libc::kill(shim as libc::pid_t, libc::SIGKILL) };
    let out = wait_with_timeout(child, Duration::from_secs(30));
    assert_code(&out, 125);
    assert!(text(&out.stderr).contains("shim"), "{}", text(&out.stderr));
    let start = Instant::now();
    while !f.processes().is_empty() || !cgroup_dirs_of(pid).is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "left: {:?} {:?}",
            f.processes(),
            cgroup_dirs_of(pid)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn allow_paths(u: User, legacy: bool) {
    let f = Fixture::new(if legacy { "allow-legacy" } else { "allow" });
    let r = f.root.join("r");
    // Nested in the read-only program directory: the read-write bind must win there.
    let w = f.prog.join("out");
    for (d, mode) in [(&r, 0o755), (&w, 0o777)] {
        std::fs::create_dir_all(d).expect("mkdir");
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(mode)).expect("chmod");
    }
    std::fs::write(r.join("data.txt"), "readable").expect("write");
    let (rs, ws) = (r.display().to_string(), w.display().to_string());
    let mut extra = vec!["--allow-read", &rs, "--allow-write", &ws];
    if legacy {
        extra.insert(0, "--legacy-remount");
    }
    extra.extend(["allow", &rs, &ws]);
    if let Some(out) = case(u, &f.args(&extra), None) {
        assert_code(&out, 0);
        assert_eq!(
            std::fs::read_to_string(w.join("out.txt")).expect("written file on the host"),
            "written inside"
        );
    }
}

fn host_mounts() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_to_string("/proc/self/mountinfo")
        .expect("mountinfo")
        .lines()
        .map(|l| l.split(' ').skip(3).take(3).collect::<Vec<_>>().join(" "))
        .collect();
    v.sort();
    v
}

fn cgroup_dirs_of(pid: u32) -> Vec<PathBuf> {
    let prefix = format!("pvm-{pid}-");
    let mut found = Vec::new();
    let mut todo = vec![PathBuf::from("/sys/fs/cgroup")];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let Ok(ft) = e.file_type() else { continue };
            if !ft.is_dir() {
                continue;
            }
            if e.file_name().to_string_lossy().starts_with(&prefix) {
                found.push(e.path());
            } else if todo.len() < 10_000 {
                todo.push(e.path());
            }
        }
    }
    found
}

fn check_nothing_left_behind(u: User) {
    let f = Fixture::new("leftovers");
    let mounts_before = host_mounts();
    for extra in [
        &["trivial"][..],
        &["--memory", "64M", "memhog"],
        &["--timeout", "0.5", "spin"],
        &["--pids", "4", "forkloop", "4"],
    ] {
        let mut cmd = command(u);
        cmd.args(f.args(extra))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .stdin(Stdio::null());
        let child = cmd.spawn().expect("spawn");
        let pid = child.id();
        let out = wait_with_timeout(child, Duration::from_secs(60));
        if u == User::Nobody && !nobody_has_userns() {
            assert_userns_refused(&out);
            return;
        }
        assert!(out.status.code().is_some(), "{extra:?}: {:?}", out.status);
        // setpriv execs the probe, so `pid` is the supervising process's pid.
        assert!(cgroup_dirs_of(pid).is_empty(), "{extra:?}: cgroups left: {:?}", cgroup_dirs_of(pid));
        assert!(f.processes().is_empty(), "{extra:?}: processes left: {:?}", f.processes());
    }
    assert_eq!(host_mounts(), mounts_before, "host mount table changed");
}

fn check_parent_sigkill(u: User) {
    let f = Fixture::new("sigkill");
    let mut cmd = command(u);
    cmd.args(f.args(&["ready-then-sleep"]))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(Stdio::null());
    let mut child = cmd.spawn().expect("spawn");
    let pid = child.id();
    let mut line = String::new();
    let stdout = child.stdout.take().expect("stdout");
    BufReader::new(stdout).read_line(&mut line).expect("read");
    if u == User::Nobody && !nobody_has_userns() {
        let out = wait_with_timeout(child, Duration::from_secs(60));
        assert_userns_refused(&out);
        return;
    }
    assert_eq!(line, "ready\n", "the container did not start");
    assert!(f.processes().len() >= 3, "expected supervisor, shim and init: {:?}", f.processes());
    let live_cgroups = cgroup_dirs_of(pid);
    if u == User::Invoker && is_root() {
        assert!(!live_cgroups.is_empty(), "root run without cgroups");
    }
    child.kill().expect("SIGKILL the supervisor");
    let _ = child.wait();
    let start = Instant::now();
    while !f.processes().is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "container survived its parent: {:?}",
            f.processes()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // The killed supervisor could not remove its cgroups: its reaper does, without waiting
    // for another run.
    let start = Instant::now();
    while live_cgroups.iter().any(|d| d.exists()) {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "cgroups left behind: {:?}",
            live_cgroups.iter().filter(|d| d.exists()).collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(f.processes().is_empty(), "processes left: {:?}", f.processes());
}

/// SIGINT (Ctrl-C) or SIGTERM to the supervising process: the container is killed, the
/// cgroups removed, then the supervisor dies of the same signal.
fn check_interrupted(u: User) {
    for sig in [libc::SIGINT, libc::SIGTERM] {
        let f = Fixture::new(&format!("interrupt-{sig}"));
        let mut cmd = command(u);
        cmd.args(f.args(&["ready-then-sleep"]))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .stdin(Stdio::null());
        let mut child = cmd.spawn().expect("spawn");
        let pid = child.id();
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read");
        if u == User::Nobody && !nobody_has_userns() {
            assert_userns_refused(&wait_with_timeout(child, Duration::from_secs(60)));
            return;
        }
        assert_eq!(line, "ready\n");
        // SAFETY: plain kill(2) of our own child.
        unsafe { libc::kill(pid as libc::pid_t, sig) };
        let out = wait_with_timeout(child, Duration::from_secs(30));
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(
            out.status.signal(),
            Some(sig),
            "status {:?}, stderr {}",
            out.status,
            text(&out.stderr)
        );
        assert!(f.processes().is_empty(), "processes left: {:?}", f.processes());
        assert!(cgroup_dirs_of(pid).is_empty(), "cgroups left: {:?}", cgroup_dirs_of(pid));
    }
}

#[test]
fn unprivileged_user_gets_a_sandbox_or_the_clear_refusal() {
    let f = Fixture::new("userns-policy");
    let out = run_probe(User::Nobody, &f.args(&["trivial"]), None);
    if nobody_has_userns() {
        assert_code(&out, 0);
    } else {
        assert_userns_refused(&out);
    }
}

#[test]
fn refused_user_namespaces_give_the_clear_message() {
    // Inside a user namespace whose max_user_namespaces is 0 the kernel refuses any further
    // one, exactly like a host with user namespaces disabled.
    if !is_root() && !nobody_has_userns() {
        return; // cannot build the refusing environment; the policy test covers this host
    }
    let f = Fixture::new("userns-refused");
    let script = format!(
        "echo 0 > /proc/sys/user/max_user_namespaces && exec {PROBE} --program-dir {} trivial",
        f.prog.display()
    );
    let out = wait_with_timeout(
        Command::new("unshare")
            .args(["--user", "--map-root-user", "sh", "-c", &script])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn unshare"),
        Duration::from_secs(60),
    );
    assert_userns_refused(&out);
}

#[test]
fn no_sandbox_runs_the_body_directly() {
    let f = Fixture::new("nosandbox");
    let out = run_probe(User::Invoker, &f.args(&["--no-sandbox", "exit", "3"]), None);
    assert_code(&out, 3);
    // The same checks fail outside the sandbox, so they do test something.
    let out = run_probe(User::Invoker, &f.args(&["--no-sandbox", "syscall", "unshare"]), None);
    assert_code(&out, 1);
}
