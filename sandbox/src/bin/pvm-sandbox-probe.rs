//! Test and benchmark driver for `pvm_sandbox::run`: parses a few flags like `pvm run`, then
//! runs one named check as the body (exit 0 = the check passed, 1 = it failed, with a message
//! on stderr). The integration tests in `tests/` spawn it once per case, as root and as an
//! unprivileged user. `--no-sandbox` runs the same body directly, for comparison.

use std::ffi::CString;
use std::fs;
use std::io::{self, BufRead, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::process::exit;
use std::time::Duration;

use pvm_sandbox::{size_parse, Config};

fn usage(msg: &str) -> ! {
    eprintln!("pvm-sandbox-probe: {msg}");
    eprintln!(
        "usage: pvm-sandbox-probe [--no-sandbox] [--program-dir DIR] [--memory SIZE] [--pids N] \
         [--timeout SECS] [--cpu-time SECS] [--tmp-size SIZE] [--allow-read P]... [--allow-write P]... \
         [--env NAME[=VALUE]]... [--warn-marker FILE] [--legacy-remount] [--quiet-fallback] [--describe] \
         [--thread-first] [--open-extra-fds] CHECK [ARGS]\n\
         --program-dir names the directory a pvm program would live in (default: the working\n\
         directory); it is not granted, and some checks assert that it is invisible"
    );
    exit(2)
}

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut cfg = Config::new();
    let mut program_dir = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    let (mut no_sandbox, mut describe, mut thread_first, mut extra_fds) = (false, false, false, false);
    while let Some(a) = args.first().cloned() {
        if !a.starts_with("--") {
            break;
        }
        args.remove(0);
        let mut val = || {
            if args.is_empty() {
                usage(&format!("{a} needs a value"))
            } else {
                args.remove(0)
            }
        };
        match a.as_str() {
            "--no-sandbox" => no_sandbox = true,
            "--describe" => describe = true,
            "--thread-first" => thread_first = true,
            "--open-extra-fds" => extra_fds = true,
            "--legacy-remount" => cfg.legacy_remount = true,
            "--quiet-fallback" => cfg.quiet_fallback = true,
            "--program-dir" => program_dir = PathBuf::from(val()),
            "--warn-marker" => cfg.warn_marker = Some(PathBuf::from(val())),
            "--env" => {
                let v = val();
                match v.split_once('=') {
                    Some((k, x)) => cfg.env.push((k.into(), x.into())),
                    None => {
                        let x = std::env::var_os(&v).unwrap_or_default();
                        cfg.env.push((v.into(), x));
                    }
                }
            }
            "--allow-read" => cfg.allow_read.push(PathBuf::from(val())),
            "--allow-write" => cfg.allow_write.push(PathBuf::from(val())),
            "--memory" => cfg.memory = size_parse(&val()).unwrap_or_else(|e| usage(&e.to_string())),
            "--tmp-size" => cfg.tmp_size = size_parse(&val()).unwrap_or_else(|e| usage(&e.to_string())),
            "--pids" => cfg.pids = val().parse().unwrap_or_else(|_| usage("bad --pids")),
            "--cpu-time" => cfg.cpu_time = Some(val().parse().unwrap_or_else(|_| usage("bad --cpu-time"))),
            "--timeout" => {
                let s: f64 = val().parse().unwrap_or_else(|_| usage("bad --timeout"));
                cfg.timeout = Some(Duration::from_secs_f64(s));
            }
            _ => usage(&format!("unknown option {a}")),
        }
    }
    if describe {
        print!("{}", cfg.describe_limits());
        exit(0);
    }
    if args.is_empty() {
        usage("missing CHECK");
    }
    let check = args.remove(0);
    let program_dir = fs::canonicalize(&program_dir).unwrap_or(program_dir);
    // SAFETY: geteuid/getuid cannot fail.
    let host_root = unsafe { libc::geteuid() } == 0
        && fs::read_to_string("/proc/self/uid_map").is_ok_and(|m| m.split_whitespace().collect::<Vec<_>>() == ["0", "0", "4294967295"]);
    // SAFETY: geteuid cannot fail.
    let expected_uid = if host_root { cfg.root_maps_to } else { unsafe { libc::geteuid() } };
    if thread_first {
        std::thread::spawn(|| std::thread::sleep(Duration::from_secs(60)));
        std::thread::sleep(Duration::from_millis(50));
    }
    if extra_fds {
        // Descriptors without O_CLOEXEC, which the container must not inherit.
        // SAFETY: plain open/pipe calls; the fds are deliberately leaked.
        unsafe {
            libc::open(c"/dev/null".as_ptr(), libc::O_RDONLY);
            let mut p = [0; 2];
            libc::pipe(p.as_mut_ptr());
        }
    }
    let body = move || match run_check(&check, &args, &program_dir, expected_uid) {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("probe check failed: {msg}");
            1
        }
    };
    if no_sandbox {
        exit(body());
    }
    match pvm_sandbox::run(&cfg, body) {
        Ok(code) => exit(code),
        Err(e) => {
            eprintln!("error: {e}");
            exit(125)
        }
    }
}

type R = Result<i32, String>;

fn ensure(ok: bool, msg: impl FnOnce() -> String) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(msg())
    }
}

fn errno() -> i32 {
    io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

fn arg(args: &[String], i: usize) -> Result<&str, String> {
    args.get(i).map(String::as_str).ok_or_else(|| format!("missing argument {i}"))
}

fn run_check(check: &str, args: &[String], program_dir: &std::path::Path, expected_uid: u32) -> R {
    match check {
        "trivial" => Ok(0),
        "exit" => arg(args, 0)?.parse().map_err(|_| "bad exit code".to_string()),
        "echo-stdin" => {
            let mut line = String::new();
            io::stdin().lock().read_line(&mut line).map_err(|e| e.to_string())?;
            println!("got: {}", line.trim_end());
            Ok(0)
        }
        "pid" => check_pid(arg(args, 0)?),
        "fs" => check_fs(arg(args, 0)?, program_dir),
        "readonly" => check_readonly(program_dir),
        "allow" => check_allow(arg(args, 0)?, arg(args, 1)?),
        "tmpcap" => check_tmpcap(size_parse(arg(args, 0)?).map_err(|e| e.to_string())?),
        "net" => check_net(arg(args, 0)?.parse().map_err(|_| "bad port")?),
        "syscall" => check_syscall(arg(args, 0)?),
        "status" => check_status(expected_uid),
        "env" => check_env(args),
        "kernel-files" => check_kernel_files(),
        "devices" => check_devices(args),
        "mount-flags" => check_mount_flags(),
        "unix-connect" => check_unix_connect(arg(args, 0)?),
        "fifo-write" => check_fifo_write(arg(args, 0)?),
        "locks" => check_locks(arg(args, 0)?),
        "memfd" => check_memfd(),
        "setid" => check_setid(arg(args, 0)?),
        "wx" => check_wx(),
        "tmpfill" => check_tmpfill(size_parse(arg(args, 0)?).map_err(|e| e.to_string())?),
        "read-absent" => {
            let p = arg(args, 0)?;
            match fs::read(p) {
                Ok(data) => Err(format!("read {} bytes of {p}: {:?}", data.len(), String::from_utf8_lossy(&data))),
                Err(_) => Ok(0),
            }
        }
        "read-file" => {
            print!(
                "{}",
                fs::read_to_string(arg(args, 0)?).map_err(|e| format!("{}: {e}", arg(args, 0).unwrap_or("")))?
            );
            Ok(0)
        }
        "tty-settings" => check_tty_settings(),
        "stdin-walk" => match fs::read_dir("/proc/self/fd/0/") {
            Ok(d) => Err(format!("listed the host through stdin: {} entries", d.count())),
            Err(_) => Ok(0),
        },
        "print-then-spin" => {
            print!("before the limit");
            loop {
                std::hint::black_box(0u64);
            }
        }
        "memhog" => memhog(),
        "forkloop" => forkloop(arg(args, 0)?.parse().map_err(|_| "bad limit")?),
        "spin" => loop {
            std::hint::black_box(0u64);
        },
        "hostname" => check_hostname(),
        "fds" => check_fds(),
        "workload" => workload(program_dir),
        "panic" => panic!("probe panics on purpose"),
        "abort" => std::process::abort(),
        "sigterm-self" => {
            // SAFETY: plain kill(2) to ourselves.
            unsafe { libc::kill(libc::getpid(), libc::SIGTERM) };
            std::thread::sleep(Duration::from_secs(5));
            Err("SIGTERM was ignored".into())
        }
        "ready-then-sleep" => {
            println!("ready");
            io::stdout().flush().map_err(|e| e.to_string())?;
            loop {
                std::thread::sleep(Duration::from_secs(1));
            }
        }
        "cwd" => {
            println!("{}", std::env::current_dir().map_err(|e| e.to_string())?.display());
            Ok(0)
        }
        other => Err(format!("unknown check {other}")),
    }
}

fn check_pid(host_pid: &str) -> R {
    // SAFETY: getpid/getppid cannot fail.
    let (pid, ppid) = unsafe { (libc::getpid(), libc::getppid()) };
    ensure(pid == 1, || format!("getpid() = {pid}, expected 1"))?;
    ensure(ppid == 0, || format!("getppid() = {ppid}, expected 0"))?;
    let mut pids: Vec<u32> = fs::read_dir("/proc")
        .map_err(|e| e.to_string())?
        .flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse().ok()))
        .collect();
    pids.sort();
    ensure(pids == [1], || format!("/proc lists processes {pids:?}, expected only [1]"))?;
    ensure(fs::metadata(format!("/proc/{host_pid}")).is_err(), || {
        format!("host pid {host_pid} visible")
    })?;
    let stat = fs::read_to_string("/proc/1/stat").map_err(|e| e.to_string())?;
    ensure(stat.contains("pvm-sandbox-pro"), || format!("/proc/1/stat is not us: {stat}"))?;
    Ok(0)
}

fn check_fs(marker: &str, program_dir: &std::path::Path) -> R {
    ensure(fs::metadata(marker).is_err(), || {
        format!("marker {marker} outside the grants is visible")
    })?;
    let app = program_dir.join("app.pvm");
    ensure(fs::symlink_metadata(&app).is_err(), || {
        format!("{} (the program's own directory) is visible", app.display())
    })?;
    let cwd = std::env::current_dir().map_err(|e| e.to_string())?;
    for p in [
        "/etc/shadow",
        "/etc/passwd",
        "/etc",
        "/home",
        "/root",
        "/usr",
        "/bin",
        "/sys",
        "/oldroot",
        "/newroot",
        "/var",
        "/run",
    ] {
        if cwd.starts_with(p) {
            continue; // the working directory's ancestors exist (empty)
        }
        ensure(fs::symlink_metadata(p).is_err(), || format!("{p} is visible"))?;
    }
    let mut dotdot = cwd.clone();
    for _ in 0..12 {
        dotdot.push("..");
    }
    for p in ["etc/shadow", "etc/passwd"] {
        let t = dotdot.join(p);
        ensure(fs::read(&t).is_err(), || format!("{} readable", t.display()))?;
    }
    // The working directory exists at its host path, but shows nothing of the host.
    let listed: Vec<String> = fs::read_dir(&cwd)
        .map_err(|e| format!("{}: {e}", cwd.display()))?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    if !cwd.starts_with("/tmp") && !cwd.starts_with("/proc") && !cwd.starts_with("/dev") && cwd != std::path::Path::new("/") {
        ensure(listed.is_empty(), || format!("the working directory shows {listed:?}"))?;
    }
    let via_proc = fs::read_dir("/proc/1/root/").map_err(|e| e.to_string())?.count();
    let direct = fs::read_dir("/").map_err(|e| e.to_string())?.count();
    ensure(via_proc == direct, || "/proc/1/root differs from /".into())?;
    let top = cwd
        .components()
        .nth(1)
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut root: Vec<String> = fs::read_dir("/")
        .map_err(|e| e.to_string())?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    root.sort();
    let mut expected = vec!["dev".to_string(), "proc".into(), "tmp".into()];
    if !top.is_empty() && !expected.contains(&top) {
        expected.push(top);
    }
    expected.sort();
    ensure(root == expected, || format!("/ contains {root:?}, expected {expected:?}"))?;
    let mut dev: Vec<String> = fs::read_dir("/dev")
        .map_err(|e| e.to_string())?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    dev.sort();
    ensure(
        dev == ["fd", "null", "random", "stderr", "stdin", "stdout", "urandom", "zero"],
        || format!("/dev contains {dev:?}"),
    )?;
    let mut buf = [0u8; 16];
    fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .map_err(|e| format!("/dev/urandom: {e}"))?;
    let mi = fs::read_to_string("/proc/self/mountinfo").map_err(|e| e.to_string())?;
    ensure(!mi.contains("oldroot") && !mi.contains("newroot"), || {
        format!("old root still mounted:\n{mi}")
    })?;
    Ok(0)
}

fn expect_err(r: io::Result<()>, what: &str, errnos: &[i32]) -> Result<(), String> {
    match r {
        Ok(()) => Err(format!("{what} succeeded")),
        Err(e) if errnos.contains(&e.raw_os_error().unwrap_or(0)) => Ok(()),
        Err(e) => Err(format!("{what} failed with {e}, expected errno {errnos:?}")),
    }
}

fn check_readonly(program_dir: &std::path::Path) -> R {
    expect_err(fs::write("/newfile", "x"), "writing /newfile", &[libc::EROFS])?;
    expect_err(fs::create_dir("/newdir"), "mkdir /newdir", &[libc::EROFS])?;
    if !program_dir.starts_with("/tmp") {
        // (under /tmp it would be the container's private /tmp)
        expect_err(
            fs::write(program_dir.join("newfile"), "x"),
            "writing in the program dir",
            &[libc::EROFS, libc::ENOENT],
        )?;
    }
    let cwd = std::env::current_dir().map_err(|e| e.to_string())?;
    if !cwd.starts_with("/tmp") {
        expect_err(
            fs::write(cwd.join("newfile"), "x"),
            "writing in the working directory",
            &[libc::EROFS],
        )?;
    }
    expect_err(fs::write("/dev/newfile", "x"), "writing /dev/newfile", &[libc::EROFS])?;
    fs::create_dir("/tmp/d").map_err(|e| format!("mkdir /tmp/d: {e}"))?;
    fs::write("/tmp/d/f", "hello").map_err(|e| format!("write /tmp/d/f: {e}"))?;
    ensure(fs::read_to_string("/tmp/d/f").map_err(|e| e.to_string())? == "hello", || {
        "tmp content".into()
    })?;
    fs::OpenOptions::new()
        .write(true)
        .open("/dev/null")
        .and_then(|mut f| f.write_all(b"x"))
        .map_err(|e| format!("/dev/null: {e}"))?;
    use std::os::unix::fs::PermissionsExt;
    expect_err(
        fs::set_permissions("/dev/null", fs::Permissions::from_mode(0o600)),
        "chmod /dev/null",
        &[libc::EROFS, libc::EPERM],
    )?;
    expect_err(
        fs::write("/proc/sys/kernel/hostname", "evil"),
        "writing /proc/sys/kernel/hostname",
        &[libc::EROFS, libc::EACCES, libc::EPERM],
    )?;
    // (ENOENT: kernels without CONFIG_MAGIC_SYSRQ have no such file.)
    expect_err(
        fs::write("/proc/sysrq-trigger", "h"),
        "writing /proc/sysrq-trigger",
        &[libc::EROFS, libc::EACCES, libc::EPERM, libc::ENOENT],
    )?;
    if let Ok(data) = fs::read("/proc/kcore") {
        ensure(data.is_empty(), || "/proc/kcore is readable".into())?;
    }
    Ok(0)
}

fn check_allow(read_dir: &str, write_dir: &str) -> R {
    let r = PathBuf::from(read_dir);
    let w = PathBuf::from(write_dir);
    let content = fs::read_to_string(r.join("data.txt")).map_err(|e| format!("reading allowed file: {e}"))?;
    ensure(content == "readable", || format!("unexpected content {content:?}"))?;
    expect_err(fs::write(r.join("new.txt"), "x"), "writing in --allow-read dir", &[libc::EROFS])?;
    fs::write(w.join("out.txt"), "written inside").map_err(|e| format!("writing in --allow-write dir: {e}"))?;
    Ok(0)
}

fn check_tmpcap(size: u64) -> R {
    let mut f = fs::File::create("/tmp/big").map_err(|e| e.to_string())?;
    let chunk = vec![7u8; 64 * 1024];
    let mut written: u64 = 0;
    loop {
        match f.write(&chunk) {
            Ok(0) => return Err("write returned 0".into()),
            Ok(n) => written += n as u64,
            Err(e) if e.raw_os_error() == Some(libc::ENOSPC) => break,
            Err(e) => return Err(format!("unexpected error after {written} bytes: {e}")),
        }
        if written > size * 4 + (16 << 20) {
            return Err(format!("wrote {written} bytes to /tmp, cap {size} not enforced"));
        }
    }
    ensure(written <= size, || format!("wrote {written} bytes, more than {size}"))?;
    ensure(written + 256 * 1024 >= size, || format!("only {written} of {size} bytes fit"))?;
    Ok(0)
}

fn check_net(host_port: u16) -> R {
    let dev = fs::read_to_string("/proc/net/dev").map_err(|e| e.to_string())?;
    let ifaces: Vec<&str> = dev.lines().skip(2).filter_map(|l| l.split(':').next()).map(str::trim).collect();
    ensure(ifaces == ["lo"], || format!("interfaces {ifaces:?}, expected only lo"))?;
    match std::net::TcpStream::connect_timeout(&([127, 0, 0, 1], host_port).into(), Duration::from_secs(2)) {
        Ok(_) => return Err(format!("connected to the host's 127.0.0.1:{host_port}")),
        Err(e) => ensure(e.raw_os_error() == Some(libc::EPERM), || {
            format!("connect to host port: {e}, expected EPERM")
        })?,
    }
    // No socket of any family can even be created.
    for (name, family) in [
        ("AF_UNIX", libc::AF_UNIX),
        ("AF_INET", libc::AF_INET),
        ("AF_INET6", libc::AF_INET6),
        ("AF_NETLINK", libc::AF_NETLINK),
        ("AF_PACKET", libc::AF_PACKET),
        ("AF_VSOCK", libc::AF_VSOCK),
    ] {
        // SAFETY: plain socket(2) call; a descriptor that is returned is closed.
        let fd = unsafe { libc::socket(family, libc::SOCK_STREAM, 0) };
        let err = errno();
        if fd >= 0 {
            // SAFETY: closing the descriptor we just got.
            unsafe { libc::close(fd) };
        }
        ensure(fd < 0 && err == libc::EPERM, || {
            format!("socket({name}) = {fd}, errno {err}; expected EPERM")
        })?;
    }
    let mut sv = [0; 2];
    // SAFETY: sv has room for two descriptors.
    let r = unsafe { libc::socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 0, sv.as_mut_ptr()) };
    ensure(r < 0 && errno() == libc::EPERM, || "socketpair(AF_UNIX) is allowed".into())?;
    Ok(0)
}

fn check_env(expected: &[String]) -> R {
    let mut got: Vec<String> = std::env::vars_os()
        .map(|(k, v)| format!("{}={}", k.to_string_lossy(), v.to_string_lossy()))
        .collect();
    got.sort();
    let mut want = expected.to_vec();
    want.sort();
    ensure(got == want, || format!("environment {got:?}, expected {want:?}"))?;
    if let Ok(raw) = fs::read("/proc/self/environ") {
        let text = String::from_utf8_lossy(&raw);
        ensure(!text.contains("PVM_PROBE_SECRET"), || {
            format!("/proc/self/environ shows the host's environment: {text}")
        })?;
    }
    // What native code could read in its own memory: the initial environment block.
    let stat = fs::read_to_string("/proc/self/stat").map_err(|e| e.to_string())?;
    let rest = &stat[stat.rfind(')').unwrap_or(0) + 1..];
    let f: Vec<usize> = rest.split_whitespace().skip(47).take(2).filter_map(|v| v.parse().ok()).collect();
    if let [start, end] = f[..] {
        if end > start && end - start < (1 << 24) {
            // SAFETY: [start, end) is this process's environment block, mapped in its stack.
            let block = unsafe { std::slice::from_raw_parts(start as *const u8, end - start) };
            let text = String::from_utf8_lossy(block);
            ensure(!text.contains("PVM_PROBE_SECRET"), || {
                "the initial environment block still holds the host's environment".into()
            })?;
        }
    }
    Ok(0)
}

fn check_kernel_files() -> R {
    for p in [
        "/proc/kpageflags",
        "/proc/kpagecount",
        "/proc/vmallocinfo",
        "/proc/slabinfo",
        "/proc/self/environ",
        "/proc/1/environ",
    ] {
        if let Ok(data) = fs::read(p) {
            ensure(data.is_empty(), || format!("{p} is readable ({} bytes)", data.len()))?;
        }
    }
    Ok(0)
}

fn check_devices(host_paths: &[String]) -> R {
    for p in host_paths {
        match fs::OpenOptions::new().read(true).open(p) {
            Ok(_) => return Err(format!("opened {p}")),
            Err(e) => ensure(e.raw_os_error() != Some(libc::EBUSY), || format!("{p}: {e}"))?,
        }
    }
    for p in [
        "/dev/kvm",
        "/dev/kmsg",
        "/dev/vcs",
        "/dev/userfaultfd",
        "/dev/mem",
        "/dev/tty",
        "/dev/console",
    ] {
        ensure(fs::OpenOptions::new().read(true).open(p).is_err(), || format!("opened {p}"))?;
    }
    let node = cs("/tmp/null2");
    // SAFETY: mknod with a constant path; expected to fail.
    let r = unsafe { libc::mknod(node.as_ptr(), libc::S_IFCHR | 0o666, libc::makedev(1, 3)) };
    ensure(r < 0, || "mknod succeeded".into())?;
    Ok(0)
}

fn check_mount_flags() -> R {
    let mi = fs::read_to_string("/proc/self/mountinfo").map_err(|e| e.to_string())?;
    let exempt = [
        "/dev/null",
        "/dev/zero",
        "/dev/random",
        "/dev/urandom",
        "/proc/kcore",
        "/proc/keys",
        "/proc/timer_list",
        "/proc/sched_debug",
        "/proc/latency_stats",
    ];
    for line in mi.lines() {
        let f: Vec<&str> = line.split(' ').collect();
        let (Some(mp), Some(opts)) = (f.get(4), f.get(5)) else { continue };
        if exempt.contains(mp) {
            continue;
        }
        let o: Vec<&str> = opts.split(',').collect();
        ensure(o.contains(&"nodev") && o.contains(&"nosuid"), || {
            format!("{mp} is mounted without nodev or nosuid: {line}")
        })?;
        if !mp.starts_with("/proc") {
            ensure(o.contains(&"noexec"), || format!("{mp} is mounted without noexec: {line}"))?;
        }
    }
    Ok(0)
}

fn check_unix_connect(path: &str) -> R {
    match std::os::unix::net::UnixStream::connect(path) {
        Ok(_) => Err(format!("connected to the host's socket {path}")),
        Err(_) => Ok(0),
    }
}

fn check_fifo_write(path: &str) -> R {
    match fs::OpenOptions::new().write(true).custom_flags(libc::O_NONBLOCK).open(path) {
        Ok(mut f) => match f.write_all(b"from inside\n") {
            Ok(()) => Err(format!("wrote into the host's FIFO {path}")),
            Err(_) => Ok(0),
        },
        Err(_) => Ok(0),
    }
}

fn check_locks(path: &str) -> R {
    let f = fs::File::open(path).map_err(|e| format!("{path}: {e}"))?;
    use std::os::fd::AsRawFd;
    // SAFETY: flock on a descriptor we own.
    let r = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    ensure(r < 0 && errno() == libc::EPERM, || {
        format!("flock on {path}: {r}, errno {}", errno())
    })?;
    // SAFETY: flock is plain data.
    let mut fl: libc::flock = unsafe { std::mem::zeroed() };
    fl.l_type = libc::F_RDLCK as libc::c_short;
    fl.l_whence = libc::SEEK_SET as libc::c_short;
    for cmd in [libc::F_SETLK, libc::F_OFD_SETLK] {
        // SAFETY: fl is a valid struct flock.
        let r = unsafe { libc::fcntl(f.as_raw_fd(), cmd, &fl) };
        ensure(r < 0 && errno() == libc::EPERM, || {
            format!("fcntl lock {cmd} on {path}: {r}, errno {}", errno())
        })?;
    }
    Ok(0)
}

/// No set-user-ID or set-group-ID file can be made, in /tmp or in a writable grant `dir`.
fn check_setid(dir: &str) -> R {
    use std::os::unix::fs::PermissionsExt;
    for d in ["/tmp", dir] {
        let p = cs(&format!("{d}/setid"));
        // SAFETY: p is NUL-terminated; a returned descriptor is closed.
        let fd = unsafe { libc::open(p.as_ptr(), libc::O_CREAT | libc::O_WRONLY, 0o4755) };
        let e = errno();
        if fd >= 0 {
            // SAFETY: closing our descriptor.
            unsafe { libc::close(fd) };
        }
        ensure(fd < 0 && e == libc::EPERM, || format!("created a setuid file in {d}"))?;
        let plain = format!("{d}/plain");
        fs::write(&plain, "x").map_err(|e| format!("{plain}: {e}"))?;
        for mode in [0o4755, 0o2755, 0o6755] {
            let r = fs::set_permissions(&plain, fs::Permissions::from_mode(mode));
            ensure(r.is_err(), || format!("chmod {mode:o} of {plain} was allowed"))?;
        }
        fs::set_permissions(&plain, fs::Permissions::from_mode(0o640)).map_err(|e| format!("chmod 640: {e}"))?;
        let f = fs::File::open(&plain).map_err(|e| e.to_string())?;
        use std::os::fd::AsRawFd;
        // SAFETY: fchmod on our descriptor.
        let r = unsafe { libc::fchmod(f.as_raw_fd(), 0o4755) };
        ensure(r < 0, || "fchmod u+s was allowed".into())?;
        let _ = fs::remove_file(&plain);
    }
    Ok(0)
}

fn check_memfd() -> R {
    let name = cs("hoard");
    // SAFETY: name is NUL-terminated.
    let fd = unsafe { libc::memfd_create(name.as_ptr(), 0) };
    ensure(fd < 0 && errno() == libc::EPERM, || format!("memfd_create returned {fd}"))?;
    Ok(0)
}

fn check_wx() -> R {
    let map = |prot: libc::c_int, flags: libc::c_int| {
        // SAFETY: a fresh anonymous mapping; unmapped by the caller.
        let p = unsafe { libc::mmap(std::ptr::null_mut(), 4096, prot, flags | libc::MAP_ANONYMOUS, -1, 0) };
        (p, errno())
    };
    let rw = libc::PROT_READ | libc::PROT_WRITE;
    let rx = libc::PROT_READ | libc::PROT_EXEC;
    let rwx = rw | libc::PROT_EXEC;
    let (p, e) = map(rwx, libc::MAP_PRIVATE);
    ensure(p == libc::MAP_FAILED && e == libc::EPERM, || "mmap RWX was allowed".into())?;
    let (p, e) = map(rw, libc::MAP_SHARED);
    ensure(p == libc::MAP_FAILED && e == libc::EPERM, || "a shared mapping was allowed".into())?;
    let (p, _) = map(rw, libc::MAP_PRIVATE);
    ensure(p != libc::MAP_FAILED, || format!("mmap RW: {}", io::Error::last_os_error()))?;
    // SAFETY: p is our mapping of 4096 bytes.
    unsafe {
        ensure(libc::mprotect(p, 4096, rwx) != 0 && errno() == libc::EPERM, || {
            "mprotect RWX was allowed".into()
        })?;
        ensure(libc::mprotect(p, 4096, rx) == 0, || {
            format!("mprotect RX: {}", io::Error::last_os_error())
        })?;
        ensure(libc::mprotect(p, 4096, rw) == 0, || {
            format!("mprotect back to RW: {}", io::Error::last_os_error())
        })?;
        libc::munmap(p, 4096);
    }
    Ok(0)
}

fn check_tmpfill(limit: u64) -> R {
    let mut f = fs::File::create("/tmp/fill").map_err(|e| e.to_string())?;
    let chunk = vec![1u8; 1 << 20];
    let mut written: u64 = 0;
    loop {
        match f.write(&chunk) {
            Ok(n) if n > 0 => written += n as u64,
            Ok(_) => break,
            Err(_) => break,
        }
        if written > limit + (64 << 20) {
            return Err(format!(
                "held {} MiB in /tmp under a {} MiB memory limit",
                written >> 20,
                limit >> 20
            ));
        }
    }
    println!("stopped after {} MiB", written >> 20);
    ensure(written <= limit, || {
        format!("held {} MiB in /tmp under a {} MiB memory limit", written >> 20, limit >> 20)
    })?;
    Ok(0)
}

fn check_tty_settings() -> R {
    // SAFETY: termios and winsize are plain data filled in by the kernel.
    let mut t: libc::termios = unsafe { std::mem::zeroed() };
    // SAFETY: t is a valid out-pointer.
    ensure(unsafe { libc::tcgetattr(0, &mut t) } == 0, || {
        format!("stdin is not a terminal: {}", io::Error::last_os_error())
    })?;
    t.c_lflag &= !(libc::ECHO | libc::ICANON);
    // SAFETY: t is a valid termios.
    let r = unsafe { libc::tcsetattr(0, libc::TCSANOW, &t) };
    let e = errno();
    let ws = libc::winsize {
        ws_row: 3,
        ws_col: 7,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: ws is a valid winsize.
    let r2 = unsafe { libc::ioctl(0, libc::TIOCSWINSZ, &ws) };
    let e2 = errno();
    // SAFETY: a plain ioctl with a one-byte argument; expected to be denied.
    let c: libc::c_char = b'x' as libc::c_char;
    let r3 = unsafe { libc::ioctl(0, libc::TIOCSTI, &c) };
    println!("tcsetattr {r} errno {e}; TIOCSWINSZ {r2} errno {e2}; TIOCSTI {r3}");
    ensure(r < 0 && e == libc::EPERM, || "changing the terminal's settings was allowed".into())?;
    ensure(r2 < 0 && e2 == libc::EPERM, || "changing the terminal's size was allowed".into())?;
    ensure(r3 < 0, || "TIOCSTI was allowed".into())?;
    Ok(0)
}

fn cs(s: &str) -> CString {
    CString::new(s).unwrap_or_default()
}

fn check_syscall(name: &str) -> R {
    let null = std::ptr::null::<libc::c_void>();
    let (tmp, tmpfs, none) = (cs("/tmp"), cs("tmpfs"), cs("none"));
    let (user, desc, payload) = (cs("user"), cs("pvm"), cs("x"));
    // SAFETY: each raw syscall gets harmless arguments (null pointers, invalid fds or
    // constant strings); the filter is expected to reject it before the kernel looks at them.
    let (ret, err) = unsafe {
        let r: libc::c_long = match name {
            "ptrace" => libc::syscall(libc::SYS_ptrace, libc::PTRACE_TRACEME, 0, 0, 0),
            "mount" => libc::syscall(libc::SYS_mount, none.as_ptr(), tmp.as_ptr(), tmpfs.as_ptr(), 0, null),
            "umount2" => libc::syscall(libc::SYS_umount2, tmp.as_ptr(), 0),
            "pivot_root" => libc::syscall(libc::SYS_pivot_root, tmp.as_ptr(), tmp.as_ptr()),
            "unshare" => libc::syscall(libc::SYS_unshare, libc::CLONE_NEWUSER),
            "setns" => libc::syscall(libc::SYS_setns, 0, 0),
            "clone-newuser" | "clone-newns" | "clone-newnet" | "clone-newpid" => {
                let flag = match name {
                    "clone-newuser" => libc::CLONE_NEWUSER,
                    "clone-newns" => libc::CLONE_NEWNS,
                    "clone-newnet" => libc::CLONE_NEWNET,
                    _ => libc::CLONE_NEWPID,
                };
                let r = libc::syscall(libc::SYS_clone, (flag | libc::SIGCHLD) as libc::c_ulong, 0, 0, 0, 0);
                if r == 0 {
                    libc::_exit(0);
                }
                r
            }
            "keyctl" => libc::syscall(libc::SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3 /* session */, 0),
            "add_key" => libc::syscall(libc::SYS_add_key, user.as_ptr(), desc.as_ptr(), payload.as_ptr(), 1, -3),
            "request_key" => libc::syscall(libc::SYS_request_key, user.as_ptr(), desc.as_ptr(), null, 0),
            "bpf" => libc::syscall(libc::SYS_bpf, 5 /* BPF_PROG_LOAD */, null, 0),
            "perf_event_open" => libc::syscall(libc::SYS_perf_event_open, null, 0, -1, -1, 0),
            "userfaultfd" => libc::syscall(libc::SYS_userfaultfd, 0),
            "init_module" => libc::syscall(libc::SYS_init_module, null, 0, payload.as_ptr()),
            "finit_module" => libc::syscall(libc::SYS_finit_module, -1, payload.as_ptr(), 0),
            "delete_module" => libc::syscall(libc::SYS_delete_module, desc.as_ptr(), 0),
            "kexec_load" => libc::syscall(libc::SYS_kexec_load, 0, 0, null, 0),
            "open_by_handle_at" => libc::syscall(libc::SYS_open_by_handle_at, libc::AT_FDCWD, null, 0),
            "io_uring_setup" => libc::syscall(libc::SYS_io_uring_setup, 1, null),
            "personality" => libc::syscall(libc::SYS_personality, 0xffff_ffffu32 as libc::c_ulong),
            "execve" => libc::syscall(libc::SYS_execve, tmp.as_ptr(), null, null),
            "ioctl-tiocsti" => {
                let c: libc::c_char = b'x' as libc::c_char;
                libc::syscall(libc::SYS_ioctl, 0, libc::TIOCSTI as libc::c_ulong, &c)
            }
            #[allow(clippy::unnecessary_cast)]
            "ioctl-tiocsti-highbits" => {
                // The kernel truncates the request to 32 bits: so must the filter.
                let c: libc::c_char = b'x' as libc::c_char;
                libc::syscall(libc::SYS_ioctl, 0, (1u64 << 32) | libc::TIOCSTI as u64, &c)
            }
            "clone3" => {
                let args = [0u64; 11]; // struct clone_args, flags 0
                let r = libc::syscall(libc::SYS_clone3, args.as_ptr(), std::mem::size_of_val(&args));
                if r == 0 {
                    libc::_exit(0);
                }
                r
            }
            other => return Err(format!("unknown syscall check {other}")),
        };
        (r, errno())
    };
    let want = if name == "clone3" { libc::ENOSYS } else { libc::EPERM };
    ensure(ret == -1 && err == want, || {
        format!("{name}: returned {ret}, errno {err}; expected -1 / errno {want}")
    })?;
    Ok(0)
}

fn check_status(expected_uid: u32) -> R {
    let st = fs::read_to_string("/proc/self/status").map_err(|e| e.to_string())?;
    let field = |k: &str| {
        st.lines()
            .find_map(|l| l.strip_prefix(k))
            .map(str::trim)
            .unwrap_or("missing")
            .to_string()
    };
    for k in ["CapInh:", "CapPrm:", "CapEff:", "CapBnd:", "CapAmb:"] {
        ensure(field(k) == "0000000000000000", || format!("{k} {}", field(k)))?;
    }
    ensure(field("NoNewPrivs:") == "1", || format!("NoNewPrivs: {}", field("NoNewPrivs:")))?;
    ensure(field("Seccomp:") == "2", || format!("Seccomp: {}", field("Seccomp:")))?;
    let uid = field("Uid:");
    let want = expected_uid.to_string();
    ensure(uid.split_whitespace().all(|u| u == want), || format!("Uid: {uid}, expected {want}"))?;
    // (uid 0 only inside an enclosing user namespace, where it is not the host's root)
    ensure(
        expected_uid != 0 || !fs::read_to_string("/proc/self/uid_map").unwrap_or_default().contains("4294967295"),
        || "the program runs as the host's uid 0".into(),
    )?;
    let groups = field("Groups:");
    ensure(groups.is_empty() || groups == "65534", || format!("supplementary groups: {groups}"))?;
    // The caller's session (its leader is outside the PID namespace, so getsid says 0): the
    // terminal's job control applies; setsid is denied, so is TIOCSTI.
    // SAFETY: getsid(0) has no preconditions.
    let sid = unsafe { libc::getsid(0) };
    ensure(sid == 0, || {
        format!("session id {sid}, expected the caller's session (0 seen from inside)")
    })?;
    let groups = fs::read_to_string("/proc/self/setgroups").map_err(|e| e.to_string())?;
    ensure(groups.trim() == "deny", || format!("setgroups: {groups}"))?;
    Ok(0)
}

fn memhog() -> R {
    let mut hoard: Vec<Vec<u8>> = Vec::new();
    for i in 0..16 * 1024 {
        let mut v = vec![0u8; 1 << 20];
        for p in v.iter_mut().step_by(4096) {
            *p = i as u8 | 1;
        }
        hoard.push(std::hint::black_box(v));
    }
    Err(format!("allocated {} MiB without being stopped", hoard.len()))
}

fn forkloop(limit: u64) -> R {
    let mut forked = 0u64;
    loop {
        // SAFETY: the child only sleeps in async-signal-safe calls until it is killed.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            loop {
                // SAFETY: pause(2) has no preconditions.
                unsafe { libc::pause() };
            }
        }
        if pid < 0 {
            let e = errno();
            println!("forked {forked} processes, then errno {e}");
            ensure(e == libc::EAGAIN, || format!("fork failed with errno {e}, expected EAGAIN"))?;
            ensure(forked < limit, || format!("forked {forked} >= limit {limit}"))?;
            return Ok(0);
        }
        forked += 1;
        if forked > limit * 4 + 100 {
            return Err(format!("forked {forked} processes, limit {limit} not enforced"));
        }
    }
}

fn check_hostname() -> R {
    let h = nix_hostname()?;
    ensure(h == "pvm", || format!("hostname {h:?}"))?;
    let p = fs::read_to_string("/proc/sys/kernel/hostname").map_err(|e| e.to_string())?;
    ensure(p.trim() == "pvm", || format!("/proc/sys/kernel/hostname {p:?}"))?;
    Ok(0)
}

fn nix_hostname() -> Result<String, String> {
    // SAFETY: utsname is plain data filled in by uname.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: u is a valid utsname.
    if unsafe { libc::uname(&mut u) } != 0 {
        return Err(io::Error::last_os_error().to_string());
    }
    // SAFETY: nodename is NUL-terminated by the kernel.
    Ok(unsafe { std::ffi::CStr::from_ptr(u.nodename.as_ptr()) }
        .to_string_lossy()
        .into_owned())
}

fn check_fds() -> R {
    let mut fds: Vec<String> = fs::read_dir("/proc/self/fd")
        .map_err(|e| e.to_string())?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    fds.sort();
    // read_dir holds one descriptor itself (3).
    ensure(fds == ["0", "1", "2", "3"], || {
        format!("open descriptors {fds:?}, expected 0 1 2 (+3 for the listing)")
    })?;
    Ok(0)
}

/// A real Rust workload: threads, channels, locks, hashing, files, time, pipes, a JIT-like
/// mapping (written, then made executable), a caught panic.
fn workload(program_dir: &std::path::Path) -> R {
    use std::collections::HashMap;
    use std::sync::{mpsc, Arc, Condvar, Mutex};
    let n = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let (tx, rx) = mpsc::channel();
    let shared = Arc::new((Mutex::new(0u64), Condvar::new()));
    let mut handles = Vec::new();
    for t in 0..4u64 {
        let tx = tx.clone();
        let shared = Arc::clone(&shared);
        handles.push(
            std::thread::Builder::new()
                .name(format!("worker-{t}"))
                .spawn(move || {
                    let mut m: HashMap<u64, u64> = HashMap::new();
                    for i in 0..20_000 {
                        *m.entry(i % 97).or_default() += i * t;
                    }
                    let (lock, cv) = &*shared;
                    if let Ok(mut g) = lock.lock() {
                        *g += 1;
                        cv.notify_all();
                    }
                    let _ = tx.send(m.values().sum::<u64>());
                })
                .map_err(|e| format!("spawning a thread: {e}"))?,
        );
    }
    drop(tx);
    for h in handles {
        h.join().map_err(|_| "worker panicked".to_string())?;
    }
    let total: u64 = rx.iter().sum();
    ensure(total > 0, || "no results".into())?;
    let (lock, _) = &*shared;
    ensure(*lock.lock().map_err(|e| e.to_string())? == 4, || "condvar count".into())?;
    // Files in /tmp and in the program directory.
    fs::create_dir_all("/tmp/w/x").map_err(|e| e.to_string())?;
    fs::write("/tmp/w/x/a.txt", b"data").map_err(|e| e.to_string())?;
    fs::rename("/tmp/w/x/a.txt", "/tmp/w/b.txt").map_err(|e| e.to_string())?;
    fs::copy("/tmp/w/b.txt", "/tmp/w/c.txt").map_err(|e| e.to_string())?;
    ensure(fs::read("/tmp/w/c.txt").map_err(|e| e.to_string())? == b"data", || "copy".into())?;
    fs::remove_dir_all("/tmp/w").map_err(|e| e.to_string())?;
    let _ = program_dir;
    // Time.
    let t0 = std::time::Instant::now();
    std::thread::sleep(Duration::from_millis(5));
    ensure(t0.elapsed() >= Duration::from_millis(5), || "sleep".into())?;
    let _ = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|e| e.to_string())?;
    // JIT-style memory: write code, flip to executable, run it (x86_64: `mov eax, 42; ret`).
    // SAFETY: a fresh anonymous mapping we own; the bytes are a complete function.
    unsafe {
        let p = libc::mmap(
            std::ptr::null_mut(),
            4096,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        ensure(p != libc::MAP_FAILED, || format!("mmap: {}", io::Error::last_os_error()))?;
        #[cfg(target_arch = "x86_64")]
        {
            let code: [u8; 6] = [0xb8, 42, 0, 0, 0, 0xc3];
            std::ptr::copy_nonoverlapping(code.as_ptr(), p.cast::<u8>(), code.len());
            ensure(libc::mprotect(p, 4096, libc::PROT_READ | libc::PROT_EXEC) == 0, || {
                format!("mprotect PROT_EXEC: {}", io::Error::last_os_error())
            })?;
            let f: extern "C" fn() -> i32 = std::mem::transmute(p);
            ensure(f() == 42, || "jit code".into())?;
        }
        libc::munmap(p, 4096);
    }
    // Pipes between threads, a caught panic, process info, environment.
    let mut p = [0; 2];
    // SAFETY: p has room for two descriptors.
    ensure(unsafe { libc::pipe2(p.as_mut_ptr(), libc::O_CLOEXEC) } == 0, || "pipe".into())?;
    use std::os::fd::FromRawFd;
    // SAFETY: both descriptors were just created and are owned by these Files only.
    let (mut r, mut w) = unsafe { (fs::File::from_raw_fd(p[0]), fs::File::from_raw_fd(p[1])) };
    std::thread::spawn(move || w.write_all(b"hi"));
    let mut b = String::new();
    r.read_to_string(&mut b).map_err(|e| e.to_string())?;
    ensure(b == "hi", || "pipe data".into())?;
    let caught = std::thread::spawn(|| std::panic::catch_unwind(|| panic!("inner")).is_err()).join();
    ensure(matches!(caught, Ok(true)), || "catch_unwind".into())?;
    ensure(std::process::id() == 1, || "pid".into())?;
    let _ = std::env::vars().count();
    let mut v: Vec<u64> = (0..10_000).rev().collect();
    v.sort_unstable();
    println!("workload ok ({n} cpus, total {total})");
    Ok(0)
}
