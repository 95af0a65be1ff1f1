//! End-to-end tests of the container. Each case spawns the probe binary
//! (`src/bin/pvm-sandbox-probe.rs`), which calls `pvm_sandbox::run` with a body that performs
//! one check and exits 0 (passed) or 1 (failed, with the reason on stderr). Every case runs
//! twice: as the invoking user (root in CI) and as an unprivileged user (uid/gid 65534 via
//! `setpriv`). Where the kernel refuses unprivileged user namespaces, the unprivileged variant
//! asserts the exact refusal message instead of being skipped.

use std::io::{BufRead, BufReader, Read, Write};
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
    cwd_kept_only_when_visible => |u: User| {
        let f = Fixture::new("cwd");
        let mut cmd = command(u);
        cmd.args(f.args(&["cwd"])).current_dir(&f.prog).stdout(Stdio::piped()).stderr(Stdio::piped());
        let out = wait_with_timeout(cmd.spawn().expect("spawn"), Duration::from_secs(60));
        if u == User::Nobody && !nobody_has_userns() { assert_userns_refused(&out); return; }
        assert_code(&out, 0);
        assert_eq!(text(&out.stdout).trim(), f.prog.display().to_string());
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

fn allow_paths(u: User, legacy: bool) {
    use std::os::unix::fs::PermissionsExt;
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
    // The killed supervisor could not remove its cgroups; the next run (this one, or one of a
    // test running concurrently) sweeps them.
    let out = run_probe(u, &f.args(&["trivial"]), None);
    assert_code(&out, 0);
    for d in live_cgroups {
        assert!(!d.exists(), "stale cgroup {} was not swept", d.display());
    }
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
