//! [`ChildPlan`]: everything the shim and the container's init need, computed and validated in
//! the parent before forking (so the children only execute it and report errors).

use std::path::PathBuf;

use nix::sys::resource::Resource;

use crate::mounts::MountPlan;
use crate::seccomp::Filters;

pub(crate) struct ChildPlan {
    /// Pid of the supervising parent, to detect its death right after fork.
    pub parent_pid: libc::pid_t,
    /// The caller's effective uid/gid, mapped to 0 inside.
    pub uid: u32,
    pub gid: u32,
    /// `cgroup.procs` files the shim writes itself into.
    pub cgroup_procs: Vec<PathBuf>,
    pub mounts: MountPlan,
    /// The caller's working directory (used inside if it is visible there).
    pub cwd: Option<PathBuf>,
    pub rlimits: Vec<(Resource, u64)>,
    /// The caller's signal mask, restored before the body runs.
    pub orig_mask: libc::sigset_t,
    pub filters: Filters,
}
