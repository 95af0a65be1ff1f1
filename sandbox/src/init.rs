//! PID-1 semantics. The body runs as PID 1 of its namespace, and the kernel does not deliver a
//! signal to a namespace's init unless the init has a handler for it (only SIGKILL/SIGSTOP from
//! an ancestor namespace and real faults get through). So `abort()`, `raise(SIGTERM)` or an
//! expired `alarm()` would be silently ignored inside the sandbox, unlike outside it.
//!
//! To keep programs behaving the same with and without the sandbox, every asynchronous signal
//! whose disposition is still the default gets a tiny handler that ends the process with status
//! `128 + signal` (the number a shell shows for a death by that signal, and the number `run`
//! returns for one). Signals the program ignores or handles itself are left alone, and it can
//! install its own handlers afterwards.

use crate::sys;
use crate::wire::{ChildError, Ctx};

/// Signals whose default action terminates the process and that the kernel would not force on
/// init. Synchronous faults (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS) are forced and
/// need no emulation.
const EMULATED: [libc::c_int; 16] = [
    libc::SIGHUP,
    libc::SIGINT,
    libc::SIGQUIT,
    libc::SIGABRT,
    libc::SIGUSR1,
    libc::SIGUSR2,
    libc::SIGPIPE,
    libc::SIGALRM,
    libc::SIGTERM,
    libc::SIGSTKFLT,
    libc::SIGXCPU,
    libc::SIGXFSZ,
    libc::SIGVTALRM,
    libc::SIGPROF,
    libc::SIGIO,
    libc::SIGPWR,
];

extern "C" fn die_like_default(sig: libc::c_int) {
    sys::exit_now(128 + sig)
}

pub(crate) fn emulate_default_signals() -> Result<(), ChildError> {
    for sig in EMULATED {
        if sys::sig_disposition(sig).ctx("reading signal dispositions")? == libc::SIG_DFL {
            sys::set_sig_handler(sig, die_like_default as extern "C" fn(libc::c_int) as libc::sighandler_t)
                .ctx("installing PID-1 signal handlers")?;
        }
    }
    Ok(())
}
