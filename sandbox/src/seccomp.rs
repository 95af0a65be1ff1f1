//! The seccomp-bpf filter, installed last, just before the body runs.
//!
//! It is an allowlist of what the VM (a Rust program: threads, files, time, memory, and a JIT
//! to come) needs, a few calls only with safe arguments; everything else fails with `EPERM`
//! (the process is never killed). `clone3` fails with `ENOSYS` instead, so that libc falls
//! back to `clone`, whose flags the filter can inspect (a BPF filter cannot read `clone3`'s
//! flags in memory).
//!
//! Two filters are stacked because one seccompiler filter has a single non-default action:
//! first `clone3 -> ENOSYS` (everything else allowed), then the allowlist (`EPERM` default).
//! The kernel runs both and the `ERRNO` result wins over `ALLOW`.
//!
//! Not allowed at all: sockets of any family (`socket`, `socketpair`, `connect`, ...: no
//! Unix-socket connection to a host agent through a granted directory), `memfd_create` (memory
//! outside every file-system limit), `flock` and locking `fcntl`s (locks on granted files
//! reach the host), `setsid`/`setpgid` (the process stays in the caller's job), `execve`.
//!
//! Argument rules (compared on the low 32 bits where the kernel does):
//! * `clone`: only without any `CLONE_NEW*` flag (threads and fork work, namespaces do not);
//! * `ioctl`: only [`ALLOWED_IOCTLS`] (read a terminal's settings and size, close-on-exec,
//!   non-blocking, bytes readable): no TIOCSTI, no terminal settings, no job control;
//! * `fcntl`: only duplicating descriptors and their flags;
//! * `kill`, `tkill`, `tgkill`: only positive ids (no process groups: the caller's process
//!   group holds pvm itself);
//! * `mmap`, `mprotect`: never writable and executable at once (a JIT maps RW, then flips to
//!   RX), and `mmap` only private (a shared mapping could be mapped twice, once writable and
//!   once executable);
//! * `openat`, `fchmod`, `fchmodat` (and `open`, `creat`, `chmod`): never a setuid or
//!   setgid bit (`openat2`, whose mode the filter cannot read, is denied; so are the
//!   `*xattr` writes that could set file capabilities);
//! * `prctl`: only harmless options (names, pdeathsig, no_new_privs, seccomp, ...).

use std::collections::BTreeMap;

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen as Len, SeccompCmpOp as Op, SeccompCondition as Cond, SeccompFilter, SeccompRule,
    TargetArch,
};

use crate::SandboxError;

/// System calls that are explicitly denied with EPERM (everything not allowed is denied too;
/// this list documents the dangerous ones and is checked by the tests).
pub const DENIED: &[(&str, i64)] = &[
    ("ptrace", libc::SYS_ptrace),
    ("mount", libc::SYS_mount),
    ("umount2", libc::SYS_umount2),
    ("pivot_root", libc::SYS_pivot_root),
    ("chroot", libc::SYS_chroot),
    ("unshare", libc::SYS_unshare),
    ("setns", libc::SYS_setns),
    ("keyctl", libc::SYS_keyctl),
    ("add_key", libc::SYS_add_key),
    ("request_key", libc::SYS_request_key),
    ("bpf", libc::SYS_bpf),
    ("perf_event_open", libc::SYS_perf_event_open),
    ("userfaultfd", libc::SYS_userfaultfd),
    ("init_module", libc::SYS_init_module),
    ("finit_module", libc::SYS_finit_module),
    ("delete_module", libc::SYS_delete_module),
    ("kexec_load", libc::SYS_kexec_load),
    ("kexec_file_load", libc::SYS_kexec_file_load),
    ("open_by_handle_at", libc::SYS_open_by_handle_at),
    ("name_to_handle_at", libc::SYS_name_to_handle_at),
    ("io_uring_setup", libc::SYS_io_uring_setup),
    ("io_uring_enter", libc::SYS_io_uring_enter),
    ("io_uring_register", libc::SYS_io_uring_register),
    ("personality", libc::SYS_personality),
    ("execve", libc::SYS_execve),
    ("execveat", libc::SYS_execveat),
    ("process_vm_readv", libc::SYS_process_vm_readv),
    ("process_vm_writev", libc::SYS_process_vm_writev),
    ("fsopen", libc::SYS_fsopen),
    ("fsmount", libc::SYS_fsmount),
    ("move_mount", libc::SYS_move_mount),
    ("open_tree", libc::SYS_open_tree),
    ("mount_setattr", libc::SYS_mount_setattr),
    ("swapon", libc::SYS_swapon),
    ("reboot", libc::SYS_reboot),
    ("syslog", libc::SYS_syslog),
    ("mknodat", libc::SYS_mknodat),
    ("sethostname", libc::SYS_sethostname),
    ("setuid", libc::SYS_setuid),
    ("settimeofday", libc::SYS_settimeofday),
    ("clock_settime", libc::SYS_clock_settime),
    ("acct", libc::SYS_acct),
    ("quotactl", libc::SYS_quotactl),
    ("socket", libc::SYS_socket),
    ("socketpair", libc::SYS_socketpair),
    ("connect", libc::SYS_connect),
    ("memfd_create", libc::SYS_memfd_create),
    ("flock", libc::SYS_flock),
    ("setsid", libc::SYS_setsid),
    ("setpgid", libc::SYS_setpgid),
    ("pkey_mprotect", libc::SYS_pkey_mprotect),
    ("pidfd_open", libc::SYS_pidfd_open),
    ("pidfd_send_signal", libc::SYS_pidfd_send_signal),
    ("openat2", libc::SYS_openat2),
    ("setxattr", libc::SYS_setxattr),
    ("fsetxattr", libc::SYS_fsetxattr),
];

/// All `CLONE_NEW*` flags that `clone(2)` accepts.
pub const CLONE_NS_FLAGS: u64 = (libc::CLONE_NEWNS
    | libc::CLONE_NEWCGROUP
    | libc::CLONE_NEWUTS
    | libc::CLONE_NEWIPC
    | libc::CLONE_NEWUSER
    | libc::CLONE_NEWPID
    | libc::CLONE_NEWNET) as u64;

/// The only ioctl requests allowed: reading a terminal's settings (isatty) and window size,
/// close-on-exec, non-blocking mode, bytes available.
#[allow(clippy::unnecessary_cast)] // the request type differs between libcs
pub const ALLOWED_IOCTLS: [u64; 6] = [
    libc::TCGETS as u64,
    libc::TIOCGWINSZ as u64,
    libc::FIOCLEX as u64,
    libc::FIONCLEX as u64,
    libc::FIONBIO as u64,
    libc::FIONREAD as u64,
];

/// Some of the ioctl requests that are denied (every one not in [`ALLOWED_IOCTLS`] is):
/// typing into the terminal, console and line-discipline control, changing terminal settings
/// or size, job control.
#[allow(clippy::unnecessary_cast)]
pub const DENIED_IOCTLS: [u64; 11] = [
    libc::TIOCSTI as u64,
    libc::TIOCLINUX as u64,
    libc::TIOCSETD as u64,
    libc::TIOCCONS as u64,
    libc::TCSETS as u64,
    libc::TCSETSW as u64,
    libc::TCSETSF as u64,
    libc::TIOCSWINSZ as u64,
    libc::TIOCSPGRP as u64,
    libc::TIOCSCTTY as u64,
    libc::TIOCNOTTY as u64,
];

/// fcntl commands allowed: duplicate, get/set descriptor and status flags.
const FCNTL_ALLOWED: [libc::c_int; 6] = [
    libc::F_DUPFD,
    libc::F_DUPFD_CLOEXEC,
    libc::F_GETFD,
    libc::F_SETFD,
    libc::F_GETFL,
    libc::F_SETFL,
];

const PRCTL_ALLOWED: [libc::c_int; 18] = [
    libc::PR_SET_PDEATHSIG,
    libc::PR_GET_PDEATHSIG,
    libc::PR_GET_DUMPABLE,
    libc::PR_SET_NAME,
    libc::PR_GET_NAME,
    libc::PR_GET_SECCOMP,
    libc::PR_SET_SECCOMP,
    libc::PR_CAPBSET_READ,
    libc::PR_GET_SECUREBITS,
    libc::PR_SET_TIMERSLACK,
    libc::PR_GET_TIMERSLACK,
    libc::PR_GET_NO_NEW_PRIVS,
    libc::PR_SET_NO_NEW_PRIVS,
    libc::PR_GET_CHILD_SUBREAPER,
    libc::PR_GET_THP_DISABLE,
    libc::PR_GET_TID_ADDRESS,
    libc::PR_GET_TIMING,
    0x5356_4d41, // PR_SET_VMA (naming anonymous mappings)
];

/// S_ISUID | S_ISGID.
const SETID_BITS: u64 = 0o6000;

/// The mapping-type bits of mmap's flags (MAP_SHARED, MAP_PRIVATE, MAP_SHARED_VALIDATE).
const MAP_TYPE: u64 = 0x0f;

/// Syscalls allowed with any arguments.
fn allowed_plain() -> Vec<i64> {
    let mut v = vec![
        // I/O
        libc::SYS_read,
        libc::SYS_write,
        libc::SYS_readv,
        libc::SYS_writev,
        libc::SYS_pread64,
        libc::SYS_pwrite64,
        libc::SYS_preadv,
        libc::SYS_pwritev,
        libc::SYS_preadv2,
        libc::SYS_pwritev2,
        libc::SYS_lseek,
        libc::SYS_sendfile,
        libc::SYS_copy_file_range,
        libc::SYS_splice,
        libc::SYS_tee,
        // files and directories
        libc::SYS_close,
        libc::SYS_close_range,
        libc::SYS_fstat,
        libc::SYS_newfstatat,
        libc::SYS_statx,
        libc::SYS_statfs,
        libc::SYS_fstatfs,
        libc::SYS_getdents64,
        libc::SYS_readlinkat,
        libc::SYS_faccessat,
        libc::SYS_faccessat2,
        libc::SYS_dup,
        libc::SYS_dup3,
        libc::SYS_pipe2,
        libc::SYS_mkdirat,
        libc::SYS_unlinkat,
        libc::SYS_renameat,
        libc::SYS_renameat2,
        libc::SYS_linkat,
        libc::SYS_symlinkat,
        libc::SYS_ftruncate,
        libc::SYS_truncate,
        libc::SYS_fsync,
        libc::SYS_fdatasync,
        libc::SYS_sync,
        libc::SYS_syncfs,
        libc::SYS_fallocate,
        libc::SYS_fchown,
        libc::SYS_fchownat,
        libc::SYS_utimensat,
        libc::SYS_umask,
        libc::SYS_fadvise64,
        libc::SYS_getcwd,
        libc::SYS_chdir,
        libc::SYS_fchdir,
        // memory (mmap and mprotect: W^X rules below)
        libc::SYS_munmap,
        libc::SYS_mremap,
        libc::SYS_madvise,
        libc::SYS_brk,
        libc::SYS_msync,
        libc::SYS_mincore,
        libc::SYS_membarrier,
        libc::SYS_mseal,
        // threads, synchronisation, scheduling
        libc::SYS_futex,
        libc::SYS_futex_waitv,
        libc::SYS_set_robust_list,
        libc::SYS_get_robust_list,
        libc::SYS_rseq,
        libc::SYS_set_tid_address,
        libc::SYS_sched_yield,
        libc::SYS_sched_getaffinity,
        libc::SYS_sched_setaffinity,
        libc::SYS_sched_getparam,
        libc::SYS_sched_getscheduler,
        libc::SYS_sched_get_priority_max,
        libc::SYS_sched_get_priority_min,
        libc::SYS_getpriority,
        libc::SYS_getcpu,
        libc::SYS_clone3, // clone3 -> ENOSYS (other filter)
        // time
        libc::SYS_clock_gettime,
        libc::SYS_clock_getres,
        libc::SYS_clock_nanosleep,
        libc::SYS_nanosleep,
        libc::SYS_gettimeofday,
        libc::SYS_timerfd_create,
        libc::SYS_timerfd_settime,
        libc::SYS_timerfd_gettime,
        libc::SYS_timer_create,
        libc::SYS_timer_settime,
        libc::SYS_timer_gettime,
        libc::SYS_timer_getoverrun,
        libc::SYS_timer_delete,
        libc::SYS_setitimer,
        libc::SYS_getitimer,
        // signals and processes
        libc::SYS_rt_sigaction,
        libc::SYS_rt_sigprocmask,
        libc::SYS_rt_sigreturn,
        libc::SYS_rt_sigsuspend,
        libc::SYS_rt_sigpending,
        libc::SYS_rt_sigtimedwait,
        libc::SYS_sigaltstack,
        libc::SYS_signalfd4,
        libc::SYS_exit,
        libc::SYS_exit_group,
        libc::SYS_wait4,
        libc::SYS_waitid,
        libc::SYS_restart_syscall,
        libc::SYS_getpid,
        libc::SYS_gettid,
        libc::SYS_getppid,
        libc::SYS_getuid,
        libc::SYS_geteuid,
        libc::SYS_getgid,
        libc::SYS_getegid,
        libc::SYS_getgroups,
        libc::SYS_getresuid,
        libc::SYS_getresgid,
        libc::SYS_getpgid,
        libc::SYS_getsid,
        libc::SYS_getrlimit,
        libc::SYS_prlimit64,
        libc::SYS_getrusage,
        libc::SYS_times,
        libc::SYS_sysinfo,
        libc::SYS_uname,
        libc::SYS_getrandom,
        libc::SYS_capget,
        libc::SYS_seccomp,
        // polling
        libc::SYS_ppoll,
        libc::SYS_pselect6,
        libc::SYS_epoll_create1,
        libc::SYS_epoll_ctl,
        libc::SYS_epoll_pwait,
        libc::SYS_epoll_pwait2,
        libc::SYS_eventfd2,
    ];
    #[cfg(target_arch = "x86_64")]
    v.extend_from_slice(&[
        libc::SYS_stat,
        libc::SYS_lstat,
        libc::SYS_access,
        libc::SYS_pipe,
        libc::SYS_dup2,
        libc::SYS_poll,
        libc::SYS_select,
        libc::SYS_fork,
        libc::SYS_vfork,
        libc::SYS_mkdir,
        libc::SYS_rmdir,
        libc::SYS_unlink,
        libc::SYS_rename,
        libc::SYS_link,
        libc::SYS_symlink,
        libc::SYS_readlink,
        libc::SYS_chown,
        libc::SYS_lchown,
        libc::SYS_getdents,
        libc::SYS_time,
        libc::SYS_alarm,
        libc::SYS_pause,
        libc::SYS_epoll_wait,
        libc::SYS_epoll_create,
        libc::SYS_eventfd,
        libc::SYS_signalfd,
        libc::SYS_arch_prctl,
        libc::SYS_getpgrp,
        libc::SYS_utime,
        libc::SYS_utimes,
        libc::SYS_futimesat,
    ]);
    v
}

fn cond(arg: u8, len: Len, op: Op, value: u64) -> Result<Cond, SandboxError> {
    Cond::new(arg, len, op, value).map_err(|e| SandboxError::setup("building the seccomp filter", e))
}

fn rule(conds: Vec<Cond>) -> Result<SeccompRule, SandboxError> {
    SeccompRule::new(conds).map_err(|e| SandboxError::setup("building the seccomp filter", e))
}

fn arch() -> Result<TargetArch, SandboxError> {
    std::env::consts::ARCH
        .try_into()
        .map_err(|e| SandboxError::setup("building the seccomp filter", format!("unsupported architecture: {e}")))
}

fn compile(filter: Result<SeccompFilter, seccompiler::BackendError>) -> Result<BpfProgram, SandboxError> {
    let filter = filter.map_err(|e| SandboxError::setup("building the seccomp filter", e))?;
    filter
        .try_into()
        .map_err(|e: seccompiler::BackendError| SandboxError::setup("compiling the seccomp filter", e))
}

/// The compiled filters, in installation order.
pub(crate) struct Filters {
    pub programs: Vec<BpfProgram>,
}

/// Build both filters. Done in the parent before forking, so that the child only installs them.
pub(crate) fn build() -> Result<Filters, SandboxError> {
    let arch = arch()?;

    let mut enosys = BTreeMap::new();
    enosys.insert(libc::SYS_clone3, vec![]);
    let clone3 = compile(SeccompFilter::new(
        enosys,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::ENOSYS as u32),
        arch,
    ))?;

    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = allowed_plain().into_iter().map(|nr| (nr, vec![])).collect();
    rules.insert(
        libc::SYS_clone,
        vec![rule(vec![cond(0, Len::Dword, Op::MaskedEq(CLONE_NS_FLAGS), 0)?])?],
    );
    let mut ioctls = Vec::new();
    for req in ALLOWED_IOCTLS {
        ioctls.push(rule(vec![cond(1, Len::Dword, Op::Eq, req)?])?);
    }
    rules.insert(libc::SYS_ioctl, ioctls);
    let mut fcntls = Vec::new();
    for cmd in FCNTL_ALLOWED {
        fcntls.push(rule(vec![cond(1, Len::Dword, Op::Eq, cmd as u64)?])?);
    }
    rules.insert(libc::SYS_fcntl, fcntls);
    // Positive pids only: 0 and negative numbers name process groups (the caller's holds pvm).
    let positive = |arg: u8| -> Result<SeccompRule, SandboxError> {
        rule(vec![
            cond(arg, Len::Dword, Op::Ne, 0)?,
            cond(arg, Len::Dword, Op::MaskedEq(0x8000_0000), 0)?,
        ])
    };
    rules.insert(libc::SYS_kill, vec![positive(0)?]);
    rules.insert(libc::SYS_tkill, vec![positive(0)?]);
    rules.insert(libc::SYS_tgkill, vec![positive(0)?]);
    // W^X: writable or executable, never both; mmap private only.
    let wx = (libc::PROT_WRITE | libc::PROT_EXEC) as u64;
    let mut mmap = Vec::new();
    let mut mprotect = Vec::new();
    for prot in [0, libc::PROT_WRITE as u64, libc::PROT_EXEC as u64] {
        mmap.push(rule(vec![
            cond(2, Len::Dword, Op::MaskedEq(wx), prot)?,
            cond(3, Len::Dword, Op::MaskedEq(MAP_TYPE), libc::MAP_PRIVATE as u64)?,
        ])?);
        mprotect.push(rule(vec![cond(2, Len::Dword, Op::MaskedEq(wx), prot)?])?);
    }
    rules.insert(libc::SYS_mmap, mmap);
    rules.insert(libc::SYS_mprotect, mprotect);
    // No setuid or setgid bit on any file: in a writable grant it would be a set-id program on
    // the host, owned by the caller (or, for root's id-mapped grants, by root).
    let no_setid =
        |arg: u8| -> Result<Vec<SeccompRule>, SandboxError> { Ok(vec![rule(vec![cond(arg, Len::Dword, Op::MaskedEq(SETID_BITS), 0)?])?]) };
    rules.insert(libc::SYS_openat, no_setid(3)?);
    rules.insert(libc::SYS_fchmod, no_setid(1)?);
    rules.insert(libc::SYS_fchmodat, no_setid(2)?);
    rules.insert(libc::SYS_fchmodat2, no_setid(2)?);
    #[cfg(target_arch = "x86_64")]
    {
        rules.insert(libc::SYS_open, no_setid(2)?);
        rules.insert(libc::SYS_creat, no_setid(1)?);
        rules.insert(libc::SYS_chmod, no_setid(1)?);
    }
    let mut prctl = Vec::new();
    for opt in PRCTL_ALLOWED {
        prctl.push(rule(vec![cond(0, Len::Dword, Op::Eq, opt as u64)?])?);
    }
    rules.insert(libc::SYS_prctl, prctl);
    for (name, nr) in DENIED {
        if rules.contains_key(nr) {
            return Err(SandboxError::setup(
                "building the seccomp filter",
                format!("{name} is both allowed and denied"),
            ));
        }
    }
    let allow = compile(SeccompFilter::new(
        rules,
        SeccompAction::Errno(libc::EPERM as u32),
        SeccompAction::Allow,
        arch,
    ))?;
    Ok(Filters {
        programs: vec![clone3, allow],
    })
}

/// Install the filters on the calling (single) thread. Sets no_new_privs if it was not set yet.
pub(crate) fn install(filters: &Filters) -> Result<(), crate::wire::ChildError> {
    for p in &filters.programs {
        seccompiler::apply_filter(p).map_err(|e| crate::wire::ChildError::new("installing the seccomp filter", e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_compile() {
        let f = build().expect("filter builds");
        assert_eq!(f.programs.len(), 2);
        assert!(f.programs.iter().all(|p| !p.is_empty() && p.len() < 4096));
    }

    #[test]
    fn denied_calls_are_not_allowed() {
        let allowed = allowed_plain();
        for (name, nr) in DENIED {
            assert!(!allowed.contains(nr), "{name} is in the allowlist");
        }
        for nr in [
            libc::SYS_clone,
            libc::SYS_ioctl,
            libc::SYS_fcntl,
            libc::SYS_kill,
            libc::SYS_mmap,
            libc::SYS_mprotect,
            libc::SYS_prctl,
        ] {
            assert!(!allowed.contains(&nr), "{nr} must only be allowed with argument rules");
        }
        for req in DENIED_IOCTLS {
            assert!(!ALLOWED_IOCTLS.contains(&req), "ioctl {req:#x} is both allowed and denied");
        }
    }
}
