//! The seccomp-bpf filter, installed last, just before the body runs.
//!
//! It is an allowlist: the system calls a Rust program (the VM) needs are allowed, a few of
//! them only with safe arguments, and everything else fails with `EPERM` (the process is never
//! killed). `clone3` fails with `ENOSYS` instead, so that libc falls back to `clone`, whose
//! flags the filter can inspect (a BPF filter cannot read `clone3`'s flags in memory).
//!
//! Two filters are stacked because one seccompiler filter has a single non-default action:
//! first `clone3 -> ENOSYS` (everything else allowed), then the allowlist (`EPERM` default).
//! The kernel runs both and the `ERRNO` result wins over `ALLOW`.
//!
//! Argument rules:
//! * `clone`: allowed only without any `CLONE_NEW*` flag (threads and fork work, new
//!   namespaces do not);
//! * `ioctl`: allowed except `TIOCSTI` (typing into a terminal), `TIOCLINUX`, `TIOCSETD` and
//!   `TIOCCONS`; compared on the low 32 bits, which is what the kernel uses;
//! * `socket`: `AF_UNIX`, `AF_INET`, `AF_INET6` only (the network namespace has only `lo`);
//! * `prctl`: only harmless options (names, pdeathsig, no_new_privs, seccomp, ...).
//!
//! `mmap`/`mprotect` with `PROT_EXEC` stay allowed for the coming JIT. `execve` is denied:
//! the VM runs bytecode in-process and the container holds no programs to run.

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
];

/// All `CLONE_NEW*` flags that `clone(2)` accepts.
pub const CLONE_NS_FLAGS: u64 = (libc::CLONE_NEWNS
    | libc::CLONE_NEWCGROUP
    | libc::CLONE_NEWUTS
    | libc::CLONE_NEWIPC
    | libc::CLONE_NEWUSER
    | libc::CLONE_NEWPID
    | libc::CLONE_NEWNET) as u64;

/// ioctl requests that are denied.
#[allow(clippy::unnecessary_cast)] // the request type differs between libcs
pub const DENIED_IOCTLS: [u64; 4] = [
    libc::TIOCSTI as u64,
    libc::TIOCLINUX as u64,
    libc::TIOCSETD as u64,
    libc::TIOCCONS as u64,
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
        libc::SYS_openat,
        libc::SYS_openat2,
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
        libc::SYS_fcntl,
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
        libc::SYS_fchmod,
        libc::SYS_fchmodat,
        libc::SYS_fchmodat2,
        libc::SYS_fchown,
        libc::SYS_fchownat,
        libc::SYS_utimensat,
        libc::SYS_umask,
        libc::SYS_flock,
        libc::SYS_fadvise64,
        libc::SYS_getcwd,
        libc::SYS_chdir,
        libc::SYS_fchdir,
        libc::SYS_inotify_init1,
        libc::SYS_inotify_add_watch,
        libc::SYS_inotify_rm_watch,
        libc::SYS_memfd_create,
        // memory (PROT_EXEC allowed: JIT)
        libc::SYS_mmap,
        libc::SYS_munmap,
        libc::SYS_mprotect,
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
        libc::SYS_setpriority,
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
        libc::SYS_rt_sigqueueinfo,
        libc::SYS_rt_tgsigqueueinfo,
        libc::SYS_sigaltstack,
        libc::SYS_signalfd4,
        libc::SYS_kill,
        libc::SYS_tgkill,
        libc::SYS_tkill,
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
        libc::SYS_setpgid,
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
        // sockets (socket/socketpair are filtered below)
        libc::SYS_connect,
        libc::SYS_bind,
        libc::SYS_listen,
        libc::SYS_accept,
        libc::SYS_accept4,
        libc::SYS_sendto,
        libc::SYS_recvfrom,
        libc::SYS_sendmsg,
        libc::SYS_recvmsg,
        libc::SYS_sendmmsg,
        libc::SYS_recvmmsg,
        libc::SYS_shutdown,
        libc::SYS_getsockname,
        libc::SYS_getpeername,
        libc::SYS_setsockopt,
        libc::SYS_getsockopt,
    ];
    #[cfg(target_arch = "x86_64")]
    v.extend_from_slice(&[
        libc::SYS_open,
        libc::SYS_creat,
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
        libc::SYS_chmod,
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
        libc::SYS_inotify_init,
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
    let mut no_bad_ioctl = Vec::new();
    for req in DENIED_IOCTLS {
        no_bad_ioctl.push(cond(1, Len::Dword, Op::Ne, req)?);
    }
    rules.insert(libc::SYS_ioctl, vec![rule(no_bad_ioctl)?]);
    let mut sockets = Vec::new();
    for domain in [libc::AF_UNIX, libc::AF_INET, libc::AF_INET6] {
        sockets.push(rule(vec![cond(0, Len::Dword, Op::Eq, domain as u64)?])?);
    }
    rules.insert(libc::SYS_socket, sockets);
    rules.insert(
        libc::SYS_socketpair,
        vec![rule(vec![cond(0, Len::Dword, Op::Eq, libc::AF_UNIX as u64)?])?],
    );
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
        for nr in [libc::SYS_clone, libc::SYS_ioctl, libc::SYS_socket, libc::SYS_prctl] {
            assert!(!allowed.contains(&nr), "{nr} must only be allowed with argument rules");
        }
    }
}
