//! [`ChildPlan`]: everything the shim and the container's init need, computed and validated in
//! the parent before forking (so the children only execute it and report errors).

use std::ffi::OsString;
use std::path::PathBuf;

use nix::sys::resource::Resource;

use crate::mounts::MountPlan;
use crate::seccomp::Filters;

pub(crate) struct ChildPlan {
    /// Pid of the supervising parent, to detect its death right after fork.
    pub parent_pid: libc::pid_t,
    /// The caller's effective uid/gid.
    pub uid: u32,
    pub gid: u32,
    /// The uid/gid the program runs as, inside and outside: the caller's own, or an
    /// unprivileged one when the caller is root.
    pub run_uid: u32,
    pub run_gid: u32,
    /// `cgroup.procs` files the shim writes itself into.
    pub cgroup_procs: Vec<PathBuf>,
    pub mounts: MountPlan,
    /// The caller's working directory (entered inside, where it was created if not granted).
    pub cwd: Option<PathBuf>,
    /// The complete environment of the body.
    pub env: Vec<(OsString, OsString)>,
    pub rlimits: Vec<(Resource, u64)>,
    /// Without a memory cgroup: the address space the loading step may add (RLIMIT_AS).
    pub load_fence: Option<u64>,
    /// The caller's signal mask, restored before the body runs.
    pub orig_mask: libc::sigset_t,
    pub filters: Filters,
}
