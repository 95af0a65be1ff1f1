//! Privileges: lock the securebits, clear every capability set (bounding and ambient
//! included), make the process non-dumpable (no core dumps, no ptrace by same-uid peers) and
//! set no_new_privs. Runs in the container's init after all mounts, just before seccomp.

use caps::CapSet;

use crate::sys::cvt;
use crate::wire::{ChildError, Ctx};

/// Lock the process out of ever regaining capabilities: uid 0 gets no special treatment on
/// exec (NOROOT), setuid transitions do not fix up capabilities, ambient capabilities cannot be
/// raised, and the bits are locked.
fn lock_securebits() -> Result<(), ChildError> {
    let bits = libc::SECBIT_NOROOT
        | libc::SECBIT_NOROOT_LOCKED
        | libc::SECBIT_NO_SETUID_FIXUP
        | libc::SECBIT_NO_SETUID_FIXUP_LOCKED
        | libc::SECBIT_KEEP_CAPS_LOCKED
        | libc::SECBIT_NO_CAP_AMBIENT_RAISE
        | libc::SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED;
    // SAFETY: PR_SET_SECUREBITS takes a plain integer.
    cvt(unsafe { libc::prctl(libc::PR_SET_SECUREBITS, bits as libc::c_ulong, 0, 0, 0) }).ctx("locking the securebits")?;
    Ok(())
}

fn last_cap() -> u32 {
    std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(63)
}

/// Clear the bounding, ambient, inheritable, effective and permitted sets, in that order
/// (dropping from the bounding set needs CAP_SETPCAP, so it goes first).
pub(crate) fn drop_capabilities() -> Result<(), ChildError> {
    lock_securebits()?;
    for cap in 0..=last_cap() {
        // SAFETY: PR_CAPBSET_DROP takes a plain capability number.
        let r = unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap as libc::c_ulong, 0, 0, 0) };
        if r != 0 {
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() != Some(libc::EINVAL) {
                return Err(ChildError::new(format!("dropping capability {cap} from the bounding set"), e));
            }
        }
    }
    for (set, name) in [
        (CapSet::Ambient, "ambient"),
        (CapSet::Inheritable, "inheritable"),
        (CapSet::Effective, "effective"),
        (CapSet::Permitted, "permitted"),
    ] {
        caps::clear(None, set).ctx(format!("clearing the {name} capability set"))?;
    }
    Ok(())
}

/// No core dumps and no ptrace attach by other processes of the same uid.
pub(crate) fn make_undumpable() -> Result<(), ChildError> {
    nix::sys::prctl::set_dumpable(false).ctx("PR_SET_DUMPABLE 0")?;
    Ok(())
}

/// execve can never grant privileges again (setuid bits, file capabilities); required for an
/// unprivileged seccomp filter.
pub(crate) fn set_no_new_privs() -> Result<(), ChildError> {
    nix::sys::prctl::set_no_new_privs().ctx("PR_SET_NO_NEW_PRIVS")?;
    Ok(())
}
