//! The container's filesystem: a fresh tmpfs root holding only the `--allow-read` /
//! `--allow-write` paths, a size-capped `/tmp`, a minimal `/dev` (four device nodes) and a
//! fresh, hardened `/proc`; entered with `pivot_root` (never `chroot`), after which the old
//! root is detached. The program's own files are not there: the caller read them before.
//!
//! Order (all inside the container's own mount namespace, after `/` was made private):
//!
//! 1. mount a small staging tmpfs over the host's `/tmp` and `pivot_root` into it, with the
//!    host root at `/oldroot` (the bubblewrap trick: the host's real `/tmp` becomes visible
//!    again at `/oldroot/tmp`, so granted paths under `/tmp` can still be bound);
//! 2. mount the container root tmpfs at `/newroot`, then `/newroot/dev` (a `nodev` tmpfs
//!    holding bind mounts of the host's null/zero/random/urandom, each checked to be that
//!    device, read-only), `/newroot/tmp`, `/newroot/proc` (with `/proc/sys`,
//!    `sysrq-trigger`, `bus`, `fs`, `irq` read-only and `kcore`, `keys`, `timer_list`, ...
//!    masked);
//! 3. bind the granted paths, parents before children, each re-opened here and compared
//!    (device and inode) with the descriptor the supervisor opened, bound from that
//!    descriptor, and immediately made `nosuid`, `nodev`, `noexec` (and read-only for
//!    `--allow-read`) recursively; then create the caller's working directory, empty, if no
//!    grant holds it;
//! 4. `pivot_root(".", ".")` inside `/newroot` and detach the stacked old root, so nothing of
//!    the host stays reachable; remount `/` read-only.

use std::fs;
use std::io;
use std::os::fd::RawFd;
use std::os::unix::fs::{symlink, DirBuilderExt, FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use nix::mount::{mount, umount2, MntFlags, MsFlags};

use crate::sys::{self, cvt_long};
use crate::wire::{ChildError, Ctx};

/// A granted host path, bound into the container at the same absolute path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Bind {
    /// Where the supervisor found it (absolute, no symlinks).
    pub path: PathBuf,
    pub writable: bool,
    pub is_dir: bool,
    /// Identity of the object the supervisor opened.
    pub dev: u64,
    pub ino: u64,
    /// The supervisor's O_PATH descriptor (inherited), which pins the inode.
    pub fd: RawFd,
}

#[derive(Debug, Clone)]
pub(crate) struct MountPlan {
    /// Sorted so that parents come before children.
    pub binds: Vec<Bind>,
    pub tmp_size: u64,
    /// The caller's working directory, created (empty) inside if no grant holds it.
    pub cwd: Option<PathBuf>,
    /// Use per-mount MS_REMOUNT instead of mount_setattr(2) (as on kernels before 5.12).
    pub legacy_remount: bool,
    /// Set when the host's root runs the program as this unprivileged uid (for messages).
    pub root_runs_as: Option<u32>,
}

/// Device nodes bound from the host's /dev, with their (major, minor) numbers.
pub(crate) const DEVICES: [(&str, u64, u64); 4] = [("null", 1, 3), ("zero", 1, 5), ("random", 1, 8), ("urandom", 1, 9)];
const STAGE: &str = "/tmp";
const PROC_READ_ONLY: [&str; 5] = ["sys", "sysrq-trigger", "bus", "fs", "irq"];
const PROC_MASKED_FILES: [&str; 5] = ["kcore", "keys", "timer_list", "sched_debug", "latency_stats"];
const PROC_MASKED_DIRS: [&str; 3] = ["acpi", "scsi", "asound"];

const MOUNT_ATTR_RDONLY: u64 = 0x1;
const MOUNT_ATTR_NOSUID: u64 = 0x2;
const MOUNT_ATTR_NODEV: u64 = 0x4;
const MOUNT_ATTR_NOEXEC: u64 = 0x8;
const MOUNT_ATTR_IDMAP: u64 = 0x0010_0000;

#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

fn mnt(src: Option<&str>, target: &Path, fstype: Option<&str>, flags: MsFlags, data: Option<&str>) -> nix::Result<()> {
    mount(src, target, fstype, flags, data)
}

/// Build the container root and pivot into it (see the module docs for the order).
pub(crate) fn build_root(plan: &MountPlan, trees: &[Option<RawFd>]) -> Result<(), ChildError> {
    mnt(None, Path::new("/"), None, MsFlags::MS_REC | MsFlags::MS_PRIVATE, None)
        .ctx("making the mount tree private (mount --make-rprivate /)")?;

    // 1. staging root
    let stage = Path::new(STAGE);
    if !stage.is_dir() {
        return Err(ChildError::new(
            "staging the container root",
            "the host has no /tmp directory to mount the staging tmpfs on",
        ));
    }
    mnt(
        Some("pvm-stage"),
        stage,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
        Some("mode=0700,size=64k"),
    )
    .ctx("mounting the staging tmpfs")?;
    for d in ["newroot", "oldroot"] {
        fs::create_dir(stage.join(d)).ctx("creating staging directories")?;
    }
    nix::unistd::pivot_root(stage, &stage.join("oldroot")).ctx("pivot_root into the staging tmpfs")?;
    nix::unistd::chdir("/").ctx("chdir /")?;

    // 2. container root, /dev, /tmp, /proc
    let root = Path::new("/newroot");
    mnt(
        Some("pvm-root"),
        root,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        Some("mode=0755,size=1m,nr_inodes=4096"),
    )
    .ctx("mounting the container root tmpfs")?;
    make_dev(root)?;
    make_tmp(root, plan.tmp_size)?;
    make_proc(root)?;

    // 3. granted paths, then the working directory
    for (i, b) in plan.binds.iter().enumerate() {
        let tree = trees.get(i).copied().flatten();
        bind_grant(root, b, tree, plan.legacy_remount).map_err(|mut e| {
            if let (Some(uid), true) = (plan.root_runs_as, e.detail.contains("Permission denied")) {
                e.detail.push_str(&format!(
                    " (pvm run by root runs the program as uid {uid}, which must be able to reach a granted path)"
                ));
            }
            e
        })?;
    }
    if let Some(cwd) = &plan.cwd {
        let inside = root.join(cwd.strip_prefix("/").unwrap_or(cwd));
        if !inside.is_dir() && !cwd.starts_with("/proc") && !cwd.starts_with("/dev") {
            // Best effort: an empty directory keeps relative paths meaning what they mean
            // outside (they fail as "not granted" instead of resolving against `/`).
            let _ = fs::DirBuilder::new().recursive(true).mode(0o755).create(&inside);
        }
    }
    remount_flags(
        &root.join("dev"),
        MsFlags::MS_RDONLY | MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
    )
    .ctx("making /dev read-only")?;

    // 4. switch roots and drop the old one
    nix::unistd::chdir(root).ctx("chdir /newroot")?;
    nix::unistd::pivot_root(".", ".").ctx("pivot_root into the container root")?;
    umount2(".", MntFlags::MNT_DETACH).ctx("unmounting the old root")?;
    nix::unistd::chdir("/").ctx("chdir /")?;
    remount_flags(
        Path::new("/"),
        MsFlags::MS_RDONLY | MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
    )
    .ctx("making / read-only")?;
    Ok(())
}

/// MS_REMOUNT|MS_BIND of a single mount with `flags` (atime flags are kept by the kernel).
fn remount_flags(target: &Path, flags: MsFlags) -> nix::Result<()> {
    mnt(None, target, None, MsFlags::MS_REMOUNT | MsFlags::MS_BIND | flags, None)
}

fn make_dev(root: &Path) -> Result<(), ChildError> {
    let dev = root.join("dev");
    fs::create_dir(&dev).ctx("creating /dev")?;
    // nodev: no device node created here (mknod is denied anyway) could ever be opened; the
    // four nodes below are separate bind mounts, checked to be exactly those devices.
    mnt(
        Some("pvm-dev"),
        &dev,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        Some("mode=0755,size=64k,nr_inodes=64"),
    )
    .ctx("mounting /dev")?;
    for (name, major, minor) in DEVICES {
        let target = dev.join(name);
        let src = Path::new("/oldroot/dev").join(name);
        let meta = fs::symlink_metadata(&src).ctx(format!("checking the host's /dev/{name}"))?;
        let (maj, min) = (libc::major(meta.rdev()) as u64, libc::minor(meta.rdev()) as u64);
        if !meta.file_type().is_char_device() || (maj, min) != (major, minor) {
            return Err(ChildError::new(
                format!("checking the host's /dev/{name}"),
                format!("it is not the character device {major}:{minor}"),
            ));
        }
        fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o666)
            .open(&target)
            .ctx(format!("creating /dev/{name}"))?;
        mnt(
            Some(src.to_str().unwrap_or_default()),
            &target,
            None,
            MsFlags::MS_BIND,
            None::<&str>,
        )
        .ctx(format!("binding /dev/{name}"))?;
        // Read-only mount: the device still works, but its host inode cannot be chmod'ed or
        // chown'ed.
        remount_flags(&target, MsFlags::MS_RDONLY | MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC)
            .ctx(format!("making /dev/{name} read-only"))?;
    }
    for (link, to) in [
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ] {
        symlink(to, dev.join(link)).ctx(format!("creating /dev/{link}"))?;
    }
    Ok(())
}

fn make_tmp(root: &Path, size: u64) -> Result<(), ChildError> {
    let tmp = root.join("tmp");
    fs::create_dir(&tmp).ctx("creating /tmp")?;
    let inodes = (size / 4096).clamp(1024, 1 << 20);
    let data = format!("mode=1777,size={size},nr_inodes={inodes}");
    mnt(
        Some("pvm-tmp"),
        &tmp,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        Some(data.as_str()),
    )
    .ctx("mounting the private /tmp")?;
    Ok(())
}

fn make_proc(root: &Path) -> Result<(), ChildError> {
    let proc_ = root.join("proc");
    fs::create_dir(&proc_).ctx("creating /proc")?;
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    mnt(Some("proc"), &proc_, Some("proc"), flags, None::<&str>).ctx("mounting /proc")?;
    for name in PROC_READ_ONLY {
        let p = proc_.join(name);
        if p.symlink_metadata().is_err() {
            continue;
        }
        mnt(
            Some(p.to_str().unwrap_or_default()),
            &p,
            None,
            MsFlags::MS_BIND | MsFlags::MS_REC,
            None::<&str>,
        )
        .ctx(format!("binding /proc/{name}"))?;
        remount_flags(&p, flags | MsFlags::MS_RDONLY).ctx(format!("making /proc/{name} read-only"))?;
    }
    let null = root.join("dev/null");
    for name in PROC_MASKED_FILES {
        let p = proc_.join(name);
        if p.symlink_metadata().map(|m| m.is_file()).unwrap_or(false) {
            mnt(Some(null.to_str().unwrap_or_default()), &p, None, MsFlags::MS_BIND, None::<&str>).ctx(format!("masking /proc/{name}"))?;
        }
    }
    for name in PROC_MASKED_DIRS {
        let p = proc_.join(name);
        if p.is_dir() {
            mnt(
                Some("pvm-mask"),
                &p,
                Some("tmpfs"),
                flags | MsFlags::MS_RDONLY,
                Some("size=4k,nr_inodes=1"),
            )
            .ctx(format!("masking /proc/{name}"))?;
        }
    }
    Ok(())
}

fn make_mountpoint(dst: &Path, is_dir: bool) -> io::Result<()> {
    if is_dir {
        if dst.is_dir() {
            return Ok(());
        }
        return fs::DirBuilder::new().recursive(true).mode(0o755).create(dst);
    }
    if let Some(p) = dst.parent() {
        if !p.is_dir() {
            fs::DirBuilder::new().recursive(true).mode(0o755).create(p)?;
        }
    }
    if dst.symlink_metadata().is_err() {
        fs::OpenOptions::new().write(true).create_new(true).mode(0o444).open(dst)?;
    }
    Ok(())
}

fn bind_grant(root: &Path, b: &Bind, tree: Option<RawFd>, legacy: bool) -> Result<(), ChildError> {
    let rel = b.path.strip_prefix("/").unwrap_or(&b.path);
    let src = Path::new("/oldroot").join(rel);
    let dst = root.join(rel);
    let what = if b.writable { "read-write" } else { "read-only" };
    let step = || format!("binding {} {what}", b.path.display());
    if let Some(tree) = tree {
        // Prepared by the shim (see `idmapped_trees`): attach it.
        make_mountpoint(&dst, b.is_dir).ctx(step())?;
        return sys::move_mount_to(tree, &dst).ctx(step());
    }
    // Re-open the path here, in this mount namespace (a descriptor opened in the host's
    // namespace cannot be bound from another), without following a final symlink, and
    // insist that it is the object the supervisor opened: a path swapped meanwhile is refused.
    let fd = sys::open_raw(&src, libc::O_PATH | libc::O_NOFOLLOW).ctx(step())?;
    let st = sys::fstat(fd);
    let parent = sys::fstat(b.fd);
    let same = matches!((&st, &parent), (Ok(a), Ok(p)) if a.st_dev == b.dev && a.st_ino == b.ino && p.st_ino == b.ino);
    if !same {
        sys::close(fd);
        return Err(ChildError::new(
            step(),
            "the path was replaced while the container was being built (refusing to bind what is there now)",
        ));
    }
    let made = if b.is_dir {
        if dst.is_dir() {
            Ok(())
        } else {
            fs::DirBuilder::new().recursive(true).mode(0o755).create(&dst)
        }
    } else {
        let parent_ok = match dst.parent() {
            Some(p) if !p.is_dir() => fs::DirBuilder::new().recursive(true).mode(0o755).create(p),
            _ => Ok(()),
        };
        parent_ok.and_then(|_| {
            if dst.symlink_metadata().is_err() {
                fs::OpenOptions::new().write(true).create_new(true).mode(0o444).open(&dst).map(drop)
            } else {
                Ok(())
            }
        })
    };
    if let Err(e) = made {
        sys::close(fd);
        return Err(ChildError::new(step(), e));
    }
    // The magic link of our own descriptor: mount(2) binds exactly the opened object.
    let via = format!("/newroot/proc/self/fd/{fd}");
    let r = mnt(Some(via.as_str()), &dst, None, MsFlags::MS_BIND | MsFlags::MS_REC, None::<&str>);
    sys::close(fd);
    r.ctx(step())?;
    if legacy {
        remount_tree_legacy(&dst, !b.writable)
    } else {
        match set_attrs_recursive(&dst, !b.writable) {
            Err(e) if e.raw_os_error() == Some(libc::ENOSYS) => remount_tree_legacy(&dst, !b.writable),
            r => r,
        }
    }
    .map_err(|e| {
        let hint = if b.writable && e.raw_os_error() == Some(libc::EPERM) {
            " (is it on a read-only host mount?)"
        } else {
            ""
        };
        ChildError::new(step(), format!("{e}{hint}"))
    })
}

/// For the host's root, whose program runs as an unprivileged uid: a detached copy of each
/// grant's mount tree, cloned from the supervisor's descriptor (no path lookup, so nothing to
/// swap), made `nosuid,nodev,noexec` (read-only for `--allow-read`) and id-mapped through
/// `userns` so that files the host's root owns appear owned by the program's uid: it can use
/// what it was granted, and files it creates belong to root on the host. `None` for a grant
/// whose file system or kernel cannot do it (that grant is then bound as usual).
pub(crate) fn idmapped_trees(binds: &[Bind], userns: RawFd) -> Vec<Option<RawFd>> {
    binds
        .iter()
        .map(|b| {
            let tree = sys::open_tree_clone(b.fd).ok()?;
            let attr = MountAttr {
                attr_set: MOUNT_ATTR_IDMAP
                    | MOUNT_ATTR_NOSUID
                    | MOUNT_ATTR_NODEV
                    | MOUNT_ATTR_NOEXEC
                    | if b.writable { 0 } else { MOUNT_ATTR_RDONLY },
                attr_clr: 0,
                propagation: 0,
                userns_fd: userns as u64,
            };
            // SAFETY: an empty NUL-terminated path, a correctly laid out struct mount_attr and
            // its size.
            let r = cvt_long(unsafe {
                libc::syscall(
                    libc::SYS_mount_setattr,
                    tree,
                    c"".as_ptr(),
                    (libc::AT_EMPTY_PATH | libc::AT_RECURSIVE) as libc::c_uint,
                    &attr as *const MountAttr,
                    std::mem::size_of::<MountAttr>(),
                )
            });
            match r {
                Ok(_) => Some(tree),
                Err(_) => {
                    sys::close(tree);
                    None
                }
            }
        })
        .collect()
}

/// mount_setattr(2) (Linux 5.12+): set nosuid, nodev, noexec (and read-only) on the bind and
/// every mount below it, in one call.
fn set_attrs_recursive(target: &Path, read_only: bool) -> io::Result<()> {
    let c = sys::cstring(target)?;
    let attr = MountAttr {
        attr_set: MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC | if read_only { MOUNT_ATTR_RDONLY } else { 0 },
        attr_clr: 0,
        propagation: 0,
        userns_fd: 0,
    };
    // SAFETY: c is a NUL-terminated path and attr a correctly laid out struct mount_attr whose
    // size is passed along.
    cvt_long(unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            libc::AT_FDCWD,
            c.as_ptr(),
            (libc::AT_RECURSIVE | libc::AT_SYMLINK_NOFOLLOW) as libc::c_uint,
            &attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    })
    .map(drop)
}

/// Fallback for kernels without mount_setattr: remount the bind and each mount below it (found
/// in mountinfo) one by one, keeping the flags the kernel locked when the host's mounts were
/// copied into this user namespace (ro, nosuid, nodev, noexec).
fn remount_tree_legacy(target: &Path, read_only: bool) -> io::Result<()> {
    let info = fs::read_to_string("/oldroot/proc/self/mountinfo")?;
    let mut points: Vec<(PathBuf, MsFlags)> = Vec::new();
    for line in info.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        let (Some(mp), Some(opts)) = (fields.get(4), fields.get(5)) else {
            continue;
        };
        let mp = PathBuf::from(unescape_mountinfo(mp));
        if mp == target || mp.starts_with(target) {
            let mut keep = MsFlags::empty();
            for o in opts.split(',') {
                keep |= match o {
                    "ro" => MsFlags::MS_RDONLY,
                    "nosuid" => MsFlags::MS_NOSUID,
                    "nodev" => MsFlags::MS_NODEV,
                    "noexec" => MsFlags::MS_NOEXEC,
                    _ => MsFlags::empty(),
                };
            }
            points.retain(|(p, _)| p != &mp); // the last mount on a mount point is the visible one
            points.push((mp, keep));
        }
    }
    for (mp, keep) in points {
        let mut flags = keep | MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
        if read_only {
            flags |= MsFlags::MS_RDONLY;
        }
        remount_flags(&mp, flags).map_err(io::Error::from)?;
    }
    Ok(())
}

/// mountinfo escapes space, tab, newline and backslash as \ooo octal.
pub(crate) fn unescape_mountinfo(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c)) {
            out.push((b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0'));
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mountinfo_unescape() {
        assert_eq!(unescape_mountinfo("/a\\040b"), "/a b");
        assert_eq!(unescape_mountinfo("/plain"), "/plain");
        assert_eq!(unescape_mountinfo("/x\\134y"), "/x\\y");
    }
}
