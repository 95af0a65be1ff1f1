//! [`SandboxError`]: every way starting or supervising the container can fail, with messages
//! that tell the user what happened and what to do about it.

use std::fmt;
use std::io;

/// Why the sandbox could not be started (or supervised).
///
/// The program itself never ran unsandboxed when one of these is returned: `run` either runs
/// the body inside the full container or not at all.
#[derive(Debug)]
pub enum SandboxError {
    /// The [`Config`](crate::Config) is unusable (a path does not exist, a limit is zero, ...).
    Config(String),
    /// `run` was called after the process had started other threads.
    Threaded {
        /// Threads counted in `/proc/self/status`.
        threads: usize,
    },
    /// The kernel refused to create an unprivileged user namespace.
    UserNamespaceRefused {
        /// The failing call and the errno, then how to enable user namespaces here.
        detail: String,
    },
    /// A step of building the container failed (in the parent or inside the child).
    Setup {
        /// What was being done, e.g. "mounting /proc".
        step: String,
        /// The OS error and any hint.
        detail: String,
    },
    /// Supervising the running container failed (pipes, waitpid, ...).
    Supervise {
        /// What was being done.
        step: String,
        /// The OS error.
        source: io::Error,
    },
}

impl SandboxError {
    pub(crate) fn setup(step: impl Into<String>, err: impl fmt::Display) -> Self {
        SandboxError::Setup {
            step: step.into(),
            detail: err.to_string(),
        }
    }

    pub(crate) fn supervise(step: impl Into<String>, source: io::Error) -> Self {
        SandboxError::Supervise { step: step.into(), source }
    }
}

impl fmt::Display for SandboxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SandboxError::Config(msg) => write!(f, "invalid sandbox configuration: {msg}"),
            SandboxError::Threaded { threads } => write!(
                f,
                "cannot start the sandbox: the process already runs {threads} threads; \
                 pvm_sandbox::run must be called before any thread is started, because the \
                 kernel refuses unshare(CLONE_NEWUSER) in a multi-threaded process"
            ),
            SandboxError::UserNamespaceRefused { detail } => f.write_str(detail),
            SandboxError::Setup { step, detail } => {
                write!(f, "cannot start the sandbox: {step}: {detail}")
            }
            SandboxError::Supervise { step, source } => {
                write!(f, "sandbox supervision failed: {step}: {source}")
            }
        }
    }
}

impl std::error::Error for SandboxError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SandboxError::Supervise { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Wire kinds used by the child processes to send an error to the parent (see `wire`).
pub(crate) const KIND_SETUP: u8 = 1;
pub(crate) const KIND_USERNS: u8 = 2;

impl SandboxError {
    pub(crate) fn from_wire(kind: u8, step: String, detail: String) -> Self {
        match kind {
            KIND_USERNS => SandboxError::UserNamespaceRefused { detail },
            _ => SandboxError::Setup { step, detail },
        }
    }
}

/// Build the message for a refused user namespace: what failed, why that matters, how to
/// enable user namespaces on this kernel (naming the sysctls that exist here), and `--no-sandbox`.
pub(crate) fn userns_refused_message(call: &str, err: &io::Error) -> String {
    let read = |p: &str| std::fs::read_to_string(p).ok().map(|s| s.trim().to_string());
    let mut how = Vec::new();
    if let Some(v) = read("/proc/sys/kernel/unprivileged_userns_clone") {
        how.push(format!("`sudo sysctl -w kernel.unprivileged_userns_clone=1` (now {v})"));
    }
    if let Some(v) = read("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") {
        how.push(format!("`sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0` (now {v})"));
    }
    if let Some(v) = read("/proc/sys/user/max_user_namespaces") {
        if v == "0" {
            how.push("`sudo sysctl -w user.max_user_namespaces=15000` (now 0)".to_string());
        }
    }
    if how.is_empty() {
        how.push(
            "`sudo sysctl -w kernel.unprivileged_userns_clone=1` (Debian, older Ubuntu) or \
             `sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0` (Ubuntu 23.10+), \
             and make sure `user.max_user_namespaces` is not 0"
                .to_string(),
        );
    }
    format!(
        "unprivileged user namespaces are refused here ({call} failed: {err}); every `pvm run` \
         executes in a rootless container and needs them. Enable them with {}; or run the \
         program without the sandbox with `pvm run --no-sandbox`",
        how.join(" and ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userns_message_names_the_fix_and_no_sandbox() {
        let msg = userns_refused_message("unshare(CLONE_NEWUSER)", &io::Error::from_raw_os_error(libc::EPERM));
        assert!(msg.contains("user namespaces are refused"), "{msg}");
        assert!(msg.contains("sysctl"), "{msg}");
        assert!(msg.contains("--no-sandbox"), "{msg}");
    }

    #[test]
    fn wire_kinds_round_trip() {
        let e = SandboxError::from_wire(KIND_USERNS, String::new(), "x".into());
        assert!(matches!(e, SandboxError::UserNamespaceRefused { .. }));
        let e = SandboxError::from_wire(KIND_SETUP, "mounting /proc".into(), "EPERM".into());
        assert_eq!(e.to_string(), "cannot start the sandbox: mounting /proc: EPERM");
    }
}
