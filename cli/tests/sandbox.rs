//! `pvm run` is contained: programs cannot read host files, write outside
//! `/tmp` or exhaust the host's memory. (The container itself is tested in
//! depth by the `pvm-sandbox` crate's own suite; native-code attacks are
//! tested there, through its probe.) The issue-9 cases run twice: as the
//! invoking user (root in CI) and as uid 65534 through `setpriv`.

use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const PVM: &str = env!("CARGO_BIN_EXE_pvm");

fn run(args: &[&str], src: &str, name: &str) -> Output {
    let dir = std::env::temp_dir().join(format!("pvm-sbx-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let p = dir.join(format!("{name}.pvm"));
    std::fs::write(&p, src).expect("write program");
    let mut a: Vec<String> = vec!["run".into()];
    a.extend(args.iter().map(|s| s.to_string()));
    a.push(p.to_string_lossy().into_owned());
    Command::new(PVM).args(&a).output().expect("pvm runs")
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn host_files_are_invisible() {
    let marker = std::env::temp_dir().join(format!("pvm-marker-{}", std::process::id()));
    std::fs::write(&marker, "secret").expect("marker");
    let src = format!(
        "fn main() {{ for p in [\"/etc/passwd\", \"/etc/shadow\", \"{}\"] {{ try {{ read_file(p); println(\"read \" + p); }} catch e {{ println(\"denied\"); }} }} }}\n",
        marker.display()
    );
    let o = run(&[], &src, "read");
    assert_eq!(out(&o), "denied\ndenied\ndenied\n", "{}", err(&o));
    // Without the sandbox the same program reads the marker: the test can fail.
    let o = run(&["--no-sandbox"], &src, "read2");
    assert!(out(&o).contains("read /"), "{}", out(&o));
}

#[test]
fn writes_outside_tmp_fail_and_tmp_is_private() {
    let target = std::env::temp_dir().join(format!("pvm-written-{}", std::process::id()));
    let src = format!(
        "fn main() {{ try {{ write_file(\"/etc/pvm-escape\", \"x\"); println(\"wrote\"); }} catch e {{ println(\"denied\"); }} write_file(\"{}\", \"inside\"); println(read_file(\"{}\")); }}\n",
        target.display(),
        target.display()
    );
    let o = run(&[], &src, "write");
    assert_eq!(out(&o), "denied\ninside\n", "{}", err(&o));
    assert!(!target.exists(), "the container's /tmp leaked to the host");
}

#[test]
fn memory_exhaustion_is_stopped() {
    let src = "fn main() { let keep: [[int]] = []; while true { push(keep, array(100000, 1)); } }\n";
    let o = run(&["--memory", "64M"], src, "hog");
    let code = o.status.code();
    let e = err(&o);
    // Either the VM's own heap limit or the container's memory limit stops it.
    assert!(code == Some(137) || code == Some(1), "status {code:?}: {e}");
    assert!(e.contains("limit exceeded"), "{e}");
}

#[test]
fn timeout_stops_an_endless_loop() {
    let o = run(&["--timeout", "1"], "fn main() { while true { } }\n", "spin");
    assert_eq!(o.status.code(), Some(124));
    assert!(err(&o).contains("time limit exceeded"));
}

// ---------------------------------------------------------------- issue 9

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum User {
    Invoker,
    Nobody,
}

fn is_root() -> bool {
    // SAFETY: geteuid cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// A directory tree under /tmp that uid 65534 can read: `prog/` holds the program.
struct Tree {
    root: PathBuf,
    prog: PathBuf,
}

impl Tree {
    fn new(name: &str) -> Tree {
        let root = PathBuf::from(format!("/tmp/pvm-cli9-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let prog = root.join("prog");
        std::fs::create_dir_all(&prog).expect("mkdir");
        for d in [&root, &prog] {
            chmod(d, 0o755);
        }
        Tree { root, prog }
    }

    fn file(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.root.join(rel);
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d).expect("mkdir");
            chmod(d, 0o755);
        }
        std::fs::write(&p, text).expect("write");
        chmod(&p, 0o644);
        p
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn chmod(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

fn pvm_as(u: User) -> Command {
    if u == User::Nobody && is_root() {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", PVM]);
        c
    } else {
        Command::new(PVM)
    }
}

/// Runs `pvm ARGS` as `u` in `cwd` with `stdin`, within a minute.
fn pvm(u: User, cwd: &Path, args: &[&str], stdin: Stdio) -> Output {
    let mut c = pvm_as(u);
    c.args(args)
        .current_dir(cwd)
        .env("PVM_SECRET_VAR", "hunter2")
        .env("PVM_QUIET_FALLBACK", "1")
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = c.spawn().expect("spawn pvm");
    wait(child, Duration::from_secs(60))
}

fn wait(mut child: std::process::Child, limit: Duration) -> Output {
    let start = Instant::now();
    let mut so = child.stdout.take();
    let mut se = child.stderr.take();
    let t1 = std::thread::spawn(move || {
        let mut v = Vec::new();
        if let Some(s) = so.as_mut() {
            let _ = s.read_to_end(&mut v);
        }
        v
    });
    let t2 = std::thread::spawn(move || {
        let mut v = Vec::new();
        if let Some(s) = se.as_mut() {
            let _ = s.read_to_end(&mut v);
        }
        v
    });
    let status = loop {
        if let Some(st) = child.try_wait().expect("try_wait") {
            break st;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("pvm did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Output {
        status,
        stdout: t1.join().unwrap_or_default(),
        stderr: t2.join().unwrap_or_default(),
    }
}

fn code(o: &Output, want: i32) {
    assert_eq!(
        o.status.code(),
        Some(want),
        "status {:?}\nstdout: {}\nstderr: {}",
        o.status,
        out(o),
        err(o)
    );
}

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

both! {
    // Item 1: imports are read by pvm, confined, bounded, and never echo a file's content.
    imports_outside_the_program_are_refused_silently => |u: User| {
        let t = Tree::new(&format!("imp-{u:?}"));
        t.file("secret.pvm", "TOPSECRET line one\n");
        std::os::unix::fs::symlink(t.root.join("secret.pvm"), t.prog.join("link.pvm")).expect("symlink");
        for (name, import) in [
            ("abs", "/etc/shadow"),
            ("passwd", "/etc/passwd"),
            ("dotdot", "../secret.pvm"),
            ("link", "link.pvm"),
            ("dev", "/dev/zero"),
            ("dir", "."),
            ("proc", "/proc/self/environ"),
        ] {
            let app = t.file(&format!("prog/{name}.pvm"), &format!("import \"{import}\";\nfn main() {{ println(\"ran\"); }}\n"));
            let start = Instant::now();
            let o = pvm(u, &t.prog, &["run", "--memory", "64M", "--timeout", "5", &app.display().to_string()], Stdio::null());
            code(&o, 2);
            let e = err(&o);
            assert!(!e.contains("TOPSECRET") && !e.contains("root:") && !e.contains("hunter2"), "{import}: {e}");
            assert!(start.elapsed() < Duration::from_secs(4), "{import}: took {:?}", start.elapsed());
        }
        // Inside the tree, and from a granted path, imports work.
        t.file("prog/lib/a.pvm", "fn a() -> int { return 1; }\n");
        t.file("common/b.pvm", "fn b() -> int { return 2; }\n");
        let app = t.file("prog/ok.pvm", "import \"lib/a.pvm\";\nimport \"../common/b.pvm\";\nfn main() { println(a() + b()); }\n");
        let common = t.root.join("common").display().to_string();
        let o = pvm(u, &t.prog, &["run", "--allow-read", &common, &app.display().to_string()], Stdio::null());
        code(&o, 0);
        assert_eq!(out(&o), "3\n");
    };
    compilation_is_bounded_by_memory_and_timeout => |u: User| {
        let t = Tree::new(&format!("bound-{u:?}"));
        // 12 MiB of source: parsing it needs far more than 64 MiB.
        let mut src = String::from("fn main() {\n    let x = 0;\n");
        while src.len() < 12 << 20 {
            src.push_str("    x = x + 1 * 2 - 3 + 4 * 5 - 6 + 7 * 8 - 9 + 10 * 11 - 12 + 13;\n");
        }
        src.push_str("    println(x);\n}\n");
        let app = t.file("prog/big.pvm", &src);
        let a = app.display().to_string();
        let start = Instant::now();
        let o = pvm(u, &t.prog, &["run", "--memory", "64M", &a], Stdio::null());
        code(&o, 137);
        assert!(err(&o).contains("memory limit exceeded (64 MiB)"), "{}", err(&o));
        let o = pvm(u, &t.prog, &["run", "--timeout", "1", &a], Stdio::null());
        let c = o.status.code();
        // Loading alone takes longer than a second; if this machine is fast enough to load
        // it in time, the run still ends within the limit.
        assert!(c == Some(124) || c == Some(0), "status {c:?}: {}", err(&o));
        if c == Some(124) {
            assert!(err(&o).contains("time limit exceeded (1 s)"), "{}", err(&o));
        }
        assert!(start.elapsed() < Duration::from_secs(30));
    };
    // Item 2: the program's directory is not in the container; grants name the flag.
    program_directory_is_not_visible => |u: User| {
        let t = Tree::new(&format!("dir-{u:?}"));
        t.file("prog/notes.txt", "private notes\n");
        let app = t.file("prog/app.pvm", "fn main() { try { println(read_file(\"notes.txt\")); } catch e { println(e); } try { write_file(\"out.txt\", \"x\"); println(\"wrote\"); } catch e { println(e); } }\n");
        let a = app.display().to_string();
        let o = pvm(u, &t.prog, &["run", &a], Stdio::null());
        code(&o, 0);
        let notes = t.prog.join("notes.txt").display().to_string();
        let s = out(&o);
        assert!(!s.contains("private notes"), "{s}");
        assert!(s.contains(&format!("cannot read {}", "notes.txt")) && s.contains(&format!("--allow-read {notes}")), "{s}");
        assert!(s.contains(&format!("--allow-write {}", t.prog.join("out.txt").display())), "{s}");
        // Granted, the same relative path means the same file.
        let p = t.prog.display().to_string();
        let o = pvm(u, &t.prog, &["run", "--allow-read", &p, &a], Stdio::null());
        code(&o, 0);
        assert!(out(&o).starts_with("private notes\n"), "{}", out(&o));
        assert!(out(&o).contains("granted read-only"), "{}", out(&o));
    };
    // Item 3: devices.
    devices_cannot_be_reached_or_granted => |u: User| {
        let t = Tree::new(&format!("dev-{u:?}"));
        let src = "fn main() { for p in [\"/dev/vcs\", \"/dev/kmsg\", \"/dev/tty\", \"/proc/vmallocinfo\", \"/proc/slabinfo\"] { try { read_file(p); println(\"read \" + p); } catch e { println(\"denied\"); } } try { write_file(\"/dev/kmsg\", \"pvm\"); println(\"wrote kmsg\"); } catch e { println(\"denied\"); } }\n";
        let app = t.file("prog/dev.pvm", src);
        // Read from /dev/stdin: the program's "directory" is /dev, which is not bound.
        let o = pvm(u, &t.prog, &["run", "/dev/stdin"], Stdio::from(std::fs::File::open(&app).expect("open")));
        code(&o, 0);
        assert_eq!(out(&o), "denied\n".repeat(6), "{}", err(&o));
        for grant in [["--allow-read", "/dev"], ["--allow-write", "/dev/kmsg"], ["--allow-read", "/proc"], ["--allow-read", "/sys/kernel"]] {
            let o = pvm(u, &t.prog, &["run", grant[0], grant[1], &app.display().to_string()], Stdio::null());
            code(&o, 125);
            assert!(err(&o).contains(grant[0]) && err(&o).contains("cannot be granted") || err(&o).contains("is a device"), "{}", err(&o));
        }
    };
    // Items 5 and 6: the environment and root-only files.
    environment_is_empty_and_root_files_unreadable => |u: User| {
        let t = Tree::new(&format!("env-{u:?}"));
        let src = "fn main() { for p in [\"/proc/self/environ\", \"/proc/1/environ\", \"/proc/vmallocinfo\", \"/proc/slabinfo\"] { try { let s = read_file(p); println(p + \": \" + str(len(s))); } catch e { println(\"denied\"); } } }\n";
        let app = t.file("prog/env.pvm", src);
        let o = pvm(u, &t.prog, &["run", &app.display().to_string()], Stdio::null());
        code(&o, 0);
        assert!(!out(&o).contains("hunter2"), "{}", out(&o));
        for line in out(&o).lines() {
            assert!(line == "denied" || line.ends_with(": 0"), "{}", out(&o));
        }
    };
    // Item 9: statuses and leftovers.
    container_failures_exit_125 => |u: User| {
        let t = Tree::new(&format!("s125-{u:?}"));
        let app = t.file("prog/app.pvm", "fn main() { println(1); }\n");
        let o = pvm(u, &t.prog, &["run", "--allow-read", "/nonexistent-pvm-path", &app.display().to_string()], Stdio::null());
        code(&o, 125);
        let bad = t.file("prog/bad.pvm", "fn main() { let x: int = 1.5; }\n");
        let o = pvm(u, &t.prog, &["run", &bad.display().to_string()], Stdio::null());
        code(&o, 2);
    };
    killed_supervisor_or_shim_leaves_nothing => check_kills;
    // Item 10: output and standard streams.
    output_before_a_time_limit_reaches_the_reader => |u: User| {
        let t = Tree::new(&format!("flush-{u:?}"));
        let app = t.file("prog/app.pvm", "fn main() { println(\"before the limit\"); while true { } }\n");
        let o = pvm(u, &t.prog, &["run", "--timeout", "1", &app.display().to_string()], Stdio::null());
        code(&o, 124);
        assert_eq!(out(&o), "before the limit\n");
        assert!(!err(&o).contains("interrupted"), "{}", err(&o));
    };
    output_before_the_memory_limit_reaches_the_reader => |u: User| {
        let t = Tree::new(&format!("mflush-{u:?}"));
        let app = t.file("prog/app.pvm", "fn main() { println(\"before the limit\"); let keep: [[int]] = []; while true { push(keep, array(100000, 1)); } }\n");
        let o = pvm(u, &t.prog, &["run", "--memory", "64M", &app.display().to_string()], Stdio::null());
        assert!(err(&o).contains("limit exceeded"), "{}", err(&o));
        assert_eq!(out(&o), "before the limit\n", "{}", err(&o));
    };
    write_errors_are_status_1 => |u: User| {
        let t = Tree::new(&format!("full-{u:?}"));
        let app = t.file("prog/app.pvm", "fn main() { println(\"hello\"); }\n");
        let mut c = pvm_as(u);
        c.args(["run", &app.display().to_string()]).env("PVM_QUIET_FALLBACK", "1").stdout(std::fs::OpenOptions::new().write(true).open("/dev/full").expect("/dev/full")).stderr(Stdio::piped());
        let o = c.output().expect("run");
        code(&o, 1);
        assert!(err(&o).contains("cannot write output"), "{}", err(&o));
    };
    programs_from_pipes_and_dev_stdin => |u: User| {
        let t = Tree::new(&format!("pipe-{u:?}"));
        let app = t.file("prog/app.pvm", "fn main() { println(\"from a pipe\"); }\n");
        for arg in ["/dev/stdin", "/proc/self/fd/0"] {
            let mut c = pvm_as(u);
            c.args(["run", arg]).env("PVM_QUIET_FALLBACK", "1").current_dir(&t.prog).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
            let mut child = c.spawn().expect("spawn");
            let text = std::fs::read(&app).expect("read");
            child.stdin.take().expect("stdin").write_all(&text).expect("write");
            let o = wait(child, Duration::from_secs(60));
            code(&o, 0);
            assert_eq!(out(&o), "from a pipe\n");
        }
        // And bytecode through a pipe.
        let pvmc = t.prog.join("app.pvmc");
        let b = Command::new(PVM).args(["build", &app.display().to_string(), "-o", &pvmc.display().to_string()]).output().expect("build");
        code(&b, 0);
        chmod(&pvmc, 0o644);
        let o = pvm(u, &t.prog, &["run", "/dev/stdin"], Stdio::from(std::fs::File::open(&pvmc).expect("open")));
        code(&o, 0);
        assert_eq!(out(&o), "from a pipe\n");
    };
    directory_as_stdin_is_refused => |u: User| {
        let t = Tree::new(&format!("stdindir-{u:?}"));
        let app = t.file("prog/app.pvm", "fn main() { try { println(read_file(\"/proc/self/fd/0/etc/passwd\")); } catch e { println(\"denied\"); } }\n");
        let o = pvm(u, &t.prog, &["run", &app.display().to_string()], Stdio::from(std::fs::File::open("/").expect("open /")));
        code(&o, 125);
        assert!(err(&o).contains("standard input is a directory"), "{}", err(&o));
    };
    relative_paths_mean_the_callers_directory => |u: User| {
        let t = Tree::new(&format!("rel-{u:?}"));
        t.file("work/in.txt", "input\n");
        let app = t.file("prog/app.pvm", "fn main() { print(read_file(\"in.txt\")); write_file(\"out.txt\", \"done\"); }\n");
        let work = t.root.join("work");
        chmod(&work, 0o777);
        let w = work.display().to_string();
        let o = pvm(u, &work, &["run", "--allow-write", &w, &app.display().to_string()], Stdio::null());
        code(&o, 0);
        assert_eq!(out(&o), "input\n");
        assert_eq!(std::fs::read_to_string(work.join("out.txt")).expect("written on the host"), "done");
    };
    fallback_warning_is_printed_once => |u: User| {
        if !(u == User::Nobody && is_root()) {
            return; // only uid 65534 lacks writable cgroups on a root CI machine
        }
        let t = Tree::new("warn");
        let home = t.root.join("home");
        std::fs::create_dir_all(&home).expect("mkdir");
        chmod(&home, 0o777);
        let app = t.file("prog/app.pvm", "fn main() { println(1); }\n");
        let run = || {
            let mut c = pvm_as(u);
            c.args(["run", &app.display().to_string()]).env("HOME", &home).env_remove("XDG_CACHE_HOME").stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
            wait(c.spawn().expect("spawn"), Duration::from_secs(60))
        };
        let first = run();
        code(&first, 0);
        if !err(&first).contains("without cgroup limits") {
            return; // this machine delegates cgroups to uid 65534
        }
        let second = run();
        code(&second, 0);
        assert!(!err(&second).contains("warning"), "{}", err(&second));
        let mut c = pvm_as(u);
        let quiet = c.args(["run", "--quiet-fallback", &app.display().to_string()]).env("HOME", t.root.join("nohome")).output().expect("run");
        assert!(!err(&quiet).contains("warning"), "{}", err(&quiet));
    };
}

/// SIGKILL of the outer pvm leaves no process and no cgroup, without another run; SIGKILL
/// of the middle process (the shim) is a container failure (125).
fn check_kills(u: User) {
    let t = Tree::new(&format!("kill-{u:?}"));
    // read_line writes out the output first, then waits on stdin (kept open).
    let app = t.file("prog/app.pvm", "fn main() { println(\"ready\"); read_line(); while true { } }\n");
    let needle = app.display().to_string();
    let procs = || -> Vec<u32> {
        let mut v = Vec::new();
        for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            if let Ok(c) = std::fs::read(e.path().join("cmdline")) {
                if String::from_utf8_lossy(&c).contains(&needle) {
                    v.push(pid);
                }
            }
        }
        v
    };
    let cgroups = |pid: u32| -> Vec<PathBuf> {
        let prefix = format!("pvm-{pid}-");
        let mut found = Vec::new();
        let mut todo = vec![PathBuf::from("/sys/fs/cgroup")];
        while let Some(d) = todo.pop() {
            for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                if !e.file_type().map(|f| f.is_dir()).unwrap_or(false) {
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
    };
    for victim in ["supervisor", "shim"] {
        let mut c = pvm_as(u);
        c.args(["run", &needle])
            .env("PVM_QUIET_FALLBACK", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn().expect("spawn");
        let pid = child.id();
        let mut line = [0u8; 6];
        child.stdout.as_mut().expect("stdout").read_exact(&mut line).expect("ready");
        let live = cgroups(pid);
        if u == User::Invoker && is_root() {
            assert!(!live.is_empty(), "a root run without cgroups");
        }
        if victim == "supervisor" {
            child.kill().expect("kill");
            let _ = child.wait();
        } else {
            let kids = |p: u32| -> Vec<u32> {
                std::fs::read_to_string(format!("/proc/{p}/task/{p}/children"))
                    .unwrap_or_default()
                    .split_whitespace()
                    .filter_map(|x| x.parse().ok())
                    .collect()
            };
            let shim = kids(pid).into_iter().find(|&k| !kids(k).is_empty()).expect("shim");
            // SAFETY: kill(2) of a process of this test.
            unsafe { libc::kill(shim as libc::pid_t, libc::SIGKILL) };
            let o = wait(child, Duration::from_secs(30));
            code(&o, 125);
            assert!(err(&o).contains("shim"), "{}", err(&o));
        }
        let start = Instant::now();
        while !procs().is_empty() || live.iter().any(|d| d.exists()) {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "{victim} killed: left {:?} {:?}",
                procs(),
                live.iter().filter(|d| d.exists()).collect::<Vec<_>>()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Run by root, the program runs as uid 65534 yet can use what it is granted: grants are
/// id-mapped, so root's files in them are the program's, and what it writes is root's.
#[test]
fn root_grants_are_usable_by_the_unprivileged_program() {
    if !is_root() {
        return;
    }
    let t = Tree::new("rootgrant");
    let data = t.root.join("private");
    std::fs::create_dir_all(&data).expect("mkdir");
    std::fs::write(data.join("secret.txt"), "root only\n").expect("write");
    chmod(&data.join("secret.txt"), 0o600);
    chmod(&data, 0o700);
    let app = t.file(
        "prog/app.pvm",
        &format!(
            "fn main() {{ print(read_file(\"{0}/secret.txt\")); write_file(\"{0}/out.txt\", \"from the program\"); println(\"ok\"); }}\n",
            data.display()
        ),
    );
    let d = data.display().to_string();
    let o = pvm(
        User::Invoker,
        &t.prog,
        &["run", "--allow-write", &d, &app.display().to_string()],
        Stdio::null(),
    );
    code(&o, 0);
    assert_eq!(out(&o), "root only\nok\n");
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(data.join("out.txt")).expect("written on the host");
    assert_eq!(meta.uid(), 0, "the file the program wrote belongs to root on the host");
    // Not granted, the same file stays out of reach.
    let o = pvm(User::Invoker, &t.prog, &["run", &app.display().to_string()], Stdio::null());
    code(&o, 1);
    assert!(!out(&o).contains("root only"));
}
