//! Resource limits: which mechanism enforces each limit ([`LimitsReport`]), and the rlimits
//! the container's init sets on itself (inherited by everything it starts).
//!
//! Always: `RLIMIT_CORE` 0, `RLIMIT_NOFILE`, `RLIMIT_FSIZE`, and `RLIMIT_CPU` when a CPU-time
//! limit is set. Memory and process count use cgroups when this process may create one; when it
//! may not (an unprivileged user without a delegated cgroup), memory falls back to an RSS
//! watchdog in the supervising parent plus a per-process `RLIMIT_AS` fence, and the process count
//! to `RLIMIT_NPROC`, counted per user namespace, so only the container's processes count.

use std::fmt;

use nix::sys::resource::{getrlimit, setrlimit, Resource};

use crate::cgroups::{CgroupVersion, ControllerResult};
use crate::size::{format_secs, format_size};
use crate::wire::{ChildError, Ctx};
use crate::Config;

/// How often the fallback memory watchdog samples the container's resident memory.
pub const WATCHDOG_INTERVAL_MS: u64 = 10;

/// The per-process address-space fence used when no memory cgroup is available: twice the
/// memory limit, and at least the limit plus 1 GiB (address space is not memory: stacks,
/// allocator arenas and JIT reservations take address space they never touch).
pub fn fallback_address_space(memory: u64) -> u64 {
    memory.saturating_mul(2).max(memory.saturating_add(1 << 30))
}

/// Size of the private /tmp. With a memory cgroup its pages are charged to the container like
/// any other memory; without one nothing would count them, so /tmp is capped at a quarter of
/// the memory limit and its full size is reserved out of it (see [`watchdog_budget`]).
pub(crate) fn effective_tmp_size(cfg: &Config, memory_cgroup: bool) -> u64 {
    if memory_cgroup {
        cfg.tmp_size
    } else {
        cfg.tmp_size.min(cfg.memory / 4)
    }
}

/// Resident memory the fallback watchdog allows: the memory limit less /tmp's size, so that
/// resident memory and /tmp together stay within the limit.
pub(crate) fn watchdog_budget(cfg: &Config) -> u64 {
    cfg.memory - effective_tmp_size(cfg, false)
}

/// One limit and how it is enforced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitEntry {
    /// Short name: "memory", "processes", "cpu time", "wall time", "/tmp", "open files",
    /// "file size", "core dumps".
    pub limit: &'static str,
    /// The configured value, human readable.
    pub value: String,
    /// The mechanism, or why the limit is not enforced.
    pub mechanism: String,
    /// False when the limit is not enforced at all.
    pub enforced: bool,
    /// True when a weaker fallback replaces the cgroup.
    pub fallback: bool,
    /// Why the cgroup could not be used (for fallbacks).
    pub reason: Option<String>,
}

/// Which limits are in force for a configuration on this machine, and how.
///
/// Get one with [`Config::describe_limits`] (probes the cgroups without leaving anything
/// behind). `run` prints [`LimitsReport::fallback_warning`] on stderr when cgroups cannot be
/// used, unless [`Config::quiet_fallback`] is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitsReport {
    /// One entry per limit.
    pub entries: Vec<LimitEntry>,
}

impl LimitsReport {
    pub(crate) fn build(cfg: &Config, mem: &ControllerResult, pids: &ControllerResult, uid: u32) -> LimitsReport {
        let mut e = Vec::new();
        let ver = |v: &CgroupVersion| match v {
            CgroupVersion::V1 => "v1",
            CgroupVersion::V2 => "v2",
        };
        e.push(match mem {
            Ok((path, v)) => LimitEntry {
                limit: "memory",
                value: format_size(cfg.memory),
                mechanism: format!("cgroup {} memory controller ({}), swap included", ver(v), path.display()),
                enforced: true,
                fallback: false,
                reason: None,
            },
            Err(why) => LimitEntry {
                limit: "memory",
                value: format_size(cfg.memory),
                mechanism: format!(
                    "resident memory of the container's processes checked every {WATCHDOG_INTERVAL_MS} ms \
                     (at most {}, the rest is /tmp's), and RLIMIT_AS {} per process",
                    format_size(watchdog_budget(cfg)),
                    format_size(fallback_address_space(cfg.memory))
                ),
                enforced: true,
                fallback: true,
                reason: Some(why.clone()),
            },
        });
        e.push(match pids {
            Ok((path, v)) => LimitEntry {
                limit: "processes",
                value: cfg.pids.to_string(),
                mechanism: format!("cgroup {} pids controller ({})", ver(v), path.display()),
                enforced: true,
                fallback: false,
                reason: None,
            },
            Err(why) if uid == 0 => LimitEntry {
                limit: "processes",
                value: cfg.pids.to_string(),
                mechanism: "NOT enforced (RLIMIT_NPROC does not apply to uid 0)".into(),
                enforced: false,
                fallback: true,
                reason: Some(why.clone()),
            },
            Err(why) => LimitEntry {
                limit: "processes",
                value: cfg.pids.to_string(),
                mechanism: "RLIMIT_NPROC, counted in the container's user namespace".into(),
                enforced: true,
                fallback: true,
                reason: Some(why.clone()),
            },
        });
        e.push(LimitEntry {
            limit: "cpu time",
            value: cfg.cpu_time.map(|s| format!("{s} s")).unwrap_or_else(|| "unlimited".into()),
            mechanism: if cfg.cpu_time.is_some() {
                "RLIMIT_CPU (per process)".into()
            } else {
                "none".into()
            },
            enforced: true,
            fallback: false,
            reason: None,
        });
        e.push(LimitEntry {
            limit: "wall time",
            value: cfg.timeout.map(format_secs).unwrap_or_else(|| "unlimited".into()),
            mechanism: if cfg.timeout.is_some() {
                "killed by the supervising process".into()
            } else {
                "none".into()
            },
            enforced: true,
            fallback: false,
            reason: None,
        });
        e.push(LimitEntry {
            limit: "/tmp",
            value: format_size(effective_tmp_size(cfg, mem.is_ok())),
            mechanism: if mem.is_ok() {
                "tmpfs size, charged to the memory cgroup".into()
            } else {
                "tmpfs size, reserved out of the memory limit".into()
            },
            enforced: true,
            fallback: false,
            reason: None,
        });
        e.push(LimitEntry {
            limit: "open files",
            value: cfg.open_files.to_string(),
            mechanism: "RLIMIT_NOFILE".into(),
            enforced: true,
            fallback: false,
            reason: None,
        });
        e.push(LimitEntry {
            limit: "file size",
            value: format_size(cfg.file_size),
            mechanism: "RLIMIT_FSIZE".into(),
            enforced: true,
            fallback: false,
            reason: None,
        });
        e.push(LimitEntry {
            limit: "core dumps",
            value: "off".into(),
            mechanism: "RLIMIT_CORE 0, not dumpable".into(),
            enforced: true,
            fallback: false,
            reason: None,
        });
        LimitsReport { entries: e }
    }

    /// True when memory and processes are limited by cgroups.
    pub fn cgroups_in_force(&self) -> bool {
        !self.entries.iter().any(|e| e.fallback)
    }

    /// One line for stderr when cgroups could not be used, naming what is in force instead.
    pub fn fallback_warning(&self) -> Option<String> {
        let fallbacks: Vec<&LimitEntry> = self.entries.iter().filter(|e| e.fallback).collect();
        let reason = fallbacks.iter().find_map(|e| e.reason.as_deref())?;
        let parts: Vec<String> = fallbacks
            .iter()
            .map(|e| format!("{} {}: {}", e.limit, e.value, e.mechanism))
            .collect();
        Some(format!(
            "warning: sandbox runs without cgroup limits ({reason}); in force instead: {}",
            parts.join("; ")
        ))
    }
}

impl fmt::Display for LimitsReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for e in &self.entries {
            match &e.reason {
                Some(r) => writeln!(f, "{:<11} {:<10} {} (no cgroup: {r})", e.limit, e.value, e.mechanism)?,
                None => writeln!(f, "{:<11} {:<10} {}", e.limit, e.value, e.mechanism)?,
            }
        }
        Ok(())
    }
}

/// The rlimits the container's init applies to itself.
pub(crate) fn rlimit_plan(cfg: &Config, memory_cgroup: bool, pids_cgroup: bool) -> Vec<(Resource, u64)> {
    let mut v = vec![
        (Resource::RLIMIT_CORE, 0),
        (Resource::RLIMIT_NOFILE, cfg.open_files),
        (Resource::RLIMIT_FSIZE, cfg.file_size),
    ];
    if let Some(cpu) = cfg.cpu_time {
        // soft == hard: the kernel sends SIGKILL when the limit is reached.
        v.push((Resource::RLIMIT_CPU, cpu));
    }
    if !memory_cgroup {
        v.push((Resource::RLIMIT_AS, fallback_address_space(cfg.memory)));
    }
    if !pids_cgroup {
        // +1: the shim (the container's waiting parent) shares the user namespace's count.
        v.push((Resource::RLIMIT_NPROC, cfg.pids.saturating_add(1)));
    }
    v
}

/// Apply the plan, lowering soft and hard limits (never above the current hard limit: raising
/// it would need CAP_SYS_RESOURCE in the initial namespace).
pub(crate) fn apply(plan: &[(Resource, u64)]) -> Result<(), ChildError> {
    for &(res, value) in plan {
        let (_, hard) = getrlimit(res).ctx(format!("reading {res:?}"))?;
        let v = value.min(hard);
        setrlimit(res, v, v).ctx(format!("setting {res:?} to {v}"))?;
    }
    Ok(())
}
