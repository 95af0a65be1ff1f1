//! Namespaces: the user and PID namespaces (entered by the shim), then mount, network, UTS,
//! IPC and cgroup namespaces (entered by the container's init), the uid/gid maps, the
//! hostname and the loopback interface.

use std::io;

use nix::sched::{unshare, CloneFlags};

use crate::error::{userns_refused_message, KIND_USERNS};
use crate::sys::{self, cvt};
use crate::wire::{ChildError, Ctx};

/// Hostname (and NIS domain name) inside the container.
pub const HOSTNAME: &str = "pvm";

fn userns_error(call: &str, err: io::Error) -> ChildError {
    ChildError {
        kind: KIND_USERNS,
        step: call.to_string(),
        detail: userns_refused_message(call, &err),
    }
}

/// Shim step: create the user namespace and the PID namespace whose first child will be the
/// container.
///
/// The program runs as `run_uid`/`run_gid` inside and outside: an unprivileged caller's own
/// ids (mapped to themselves, a single line each, which an unprivileged process may write);
/// for the host's root (then the ids differ), an unprivileged uid such as 65534, with the supplementary groups dropped
/// first, so that the program can read nothing an ordinary user could not. setgroups(2) is
/// denied in every case, so the container can never drop a group to gain access.
pub(crate) fn enter_user_and_pid(outer_uid: u32, outer_gid: u32, run_uid: u32, run_gid: u32) -> Result<(), ChildError> {
    let root = (run_uid, run_gid) != (outer_uid, outer_gid);
    let (u, g) = (run_uid, run_gid);
    if root {
        // Become the unprivileged ids first (a process inside a new user namespace can only
        // map its own ids, and has no capability in the parent namespace to map others).
        // SAFETY: setgroups with a zero-length list reads no memory; the rest take integers.
        cvt(unsafe { libc::setgroups(0, std::ptr::null()) }).ctx("dropping the supplementary groups")?;
        // SAFETY: plain integer arguments.
        cvt(unsafe { libc::setresgid(g, g, g) }).ctx("switching to the unprivileged gid")?;
        // SAFETY: plain integer arguments.
        cvt(unsafe { libc::setresuid(u, u, u) }).ctx("switching to the unprivileged uid")?;
        // The uid change made the process non-dumpable, which hands its /proc files to root:
        // take them back to write the maps, and give them up again below.
        // SAFETY: PR_SET_DUMPABLE takes a plain integer.
        cvt(unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 1 as libc::c_ulong, 0, 0, 0) }).ctx("PR_SET_DUMPABLE 1")?;
    }
    unshare(CloneFlags::CLONE_NEWUSER).map_err(|e| userns_error("unshare(CLONE_NEWUSER)", io::Error::from(e)))?;
    std::fs::write("/proc/self/setgroups", "deny").map_err(|e| map_error("/proc/self/setgroups", e))?;
    std::fs::write("/proc/self/uid_map", format!("{u} {u} 1\n")).map_err(|e| map_error("/proc/self/uid_map", e))?;
    std::fs::write("/proc/self/gid_map", format!("{g} {g} 1\n")).map_err(|e| map_error("/proc/self/gid_map", e))?;
    if root {
        // No other process of that uid on the host may trace the shim.
        // SAFETY: as above.
        cvt(unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0 as libc::c_ulong, 0, 0, 0) }).ctx("PR_SET_DUMPABLE 0")?;
    }
    unshare(CloneFlags::CLONE_NEWPID).ctx("creating the PID namespace (unshare(CLONE_NEWPID))")?;
    Ok(())
}

fn map_error(file: &str, e: io::Error) -> ChildError {
    match e.raw_os_error() {
        // A user namespace whose root has no capabilities (AppArmor's
        // apparmor_restrict_unprivileged_userns, some LSMs) fails exactly here.
        Some(libc::EPERM) | Some(libc::EACCES) => userns_error(&format!("writing {file}"), e),
        _ => ChildError::new(format!("writing {file}"), e),
    }
}

/// Container step: the namespaces that apply to the calling process itself. Returns whether a
/// cgroup namespace was created (kernels without CONFIG_CGROUPS lack it).
pub(crate) fn enter_rest() -> Result<bool, ChildError> {
    let base = CloneFlags::CLONE_NEWNS | CloneFlags::CLONE_NEWNET | CloneFlags::CLONE_NEWUTS | CloneFlags::CLONE_NEWIPC;
    let have_cgroupns = std::path::Path::new("/proc/self/ns/cgroup").exists();
    if have_cgroupns {
        unshare(base | CloneFlags::CLONE_NEWCGROUP).ctx("creating mount, network, UTS, IPC and cgroup namespaces")?;
    } else {
        unshare(base).ctx("creating mount, network, UTS and IPC namespaces")?;
    }
    Ok(have_cgroupns)
}

/// Set the hostname and NIS domain name of the new UTS namespace.
pub(crate) fn set_hostname() -> Result<(), ChildError> {
    nix::unistd::sethostname(HOSTNAME).ctx("setting the hostname")?;
    let domain = b"(none)";
    // SAFETY: domain is a valid buffer of domain.len() bytes.
    cvt(unsafe { libc::setdomainname(domain.as_ptr().cast(), domain.len()) }).ctx("setting the domain name")?;
    Ok(())
}

#[repr(C)]
struct IfReqFlags {
    name: [libc::c_char; libc::IFNAMSIZ],
    flags: libc::c_short,
    _pad: [u8; 22],
}

/// Bring up `lo` in the new network namespace (the only interface it has).
pub(crate) fn loopback_up() -> Result<(), ChildError> {
    // SAFETY: plain socket(2) call.
    let fd =
        cvt(unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) }).ctx("opening a socket to configure lo")?;
    let mut req = IfReqFlags {
        name: [0; libc::IFNAMSIZ],
        flags: 0,
        _pad: [0; 22],
    };
    req.name[0] = b'l' as libc::c_char;
    req.name[1] = b'o' as libc::c_char;
    // SAFETY: req is a properly sized struct ifreq (name + flags union member).
    let r = cvt(unsafe { libc::ioctl(fd, libc::SIOCGIFFLAGS as _, &mut req) });
    let r = r.and_then(|_| {
        req.flags |= (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
        // SAFETY: as above.
        cvt(unsafe { libc::ioctl(fd, libc::SIOCSIFFLAGS as _, &req) })
    });
    sys::close(fd);
    r.ctx("bringing up the loopback interface")?;
    Ok(())
}

/// A user namespace that maps uid and gid 0 to `outside`, for id-mapped mounts: made by a
/// short-lived child (a process cannot give itself such a map), which exits once the
/// namespace is held by the returned descriptor. Needs the host's root.
pub(crate) fn idmap_userns(outside: u32) -> io::Result<std::os::fd::OwnedFd> {
    use std::os::fd::FromRawFd;
    let (ready_rd, ready_wr) = sys::pipe()?;
    let (done_rd, done_wr) = sys::pipe()?;
    // SAFETY: the shim is single-threaded.
    let pid = unsafe { sys::fork() }?;
    if pid == 0 {
        sys::close(ready_rd);
        sys::close(done_wr);
        let _ = sys::set_pdeathsig(libc::SIGKILL);
        let ok: &[u8] = if unshare(CloneFlags::CLONE_NEWUSER).is_ok() { b"1" } else { b"0" };
        let _ = sys::write_all(ready_wr, ok);
        let mut b = [0u8; 1];
        let _ = sys::read_some(done_rd, &mut b);
        sys::exit_now(0);
    }
    sys::close(ready_wr);
    sys::close(done_rd);
    let mut b = [0u8; 1];
    let got = sys::read_some(ready_rd, &mut b);
    sys::close(ready_rd);
    let r = match got {
        Ok(1) if b[0] == b'1' => (|| {
            std::fs::write(format!("/proc/{pid}/uid_map"), format!("0 {outside} 1\n"))?;
            std::fs::write(format!("/proc/{pid}/gid_map"), format!("0 {outside} 1\n"))?;
            let fd = sys::open_raw(std::path::Path::new(&format!("/proc/{pid}/ns/user")), libc::O_RDONLY)?;
            // SAFETY: fd was just opened and is owned here only.
            Ok(unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) })
        })(),
        _ => Err(io::Error::other("could not create a user namespace for id-mapped mounts")),
    };
    sys::close(done_wr);
    let mut st = 0;
    // SAFETY: pid is our own child; st is a valid out-pointer.
    unsafe { libc::waitpid(pid, &mut st, 0) };
    r
}
