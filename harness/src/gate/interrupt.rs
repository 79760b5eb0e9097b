//! Ctrl-C: SIGINT (and SIGTERM, SIGHUP) only raise a flag; the tracer sees it
//! at its next turn, kills and reaps every traced process, and the run
//! restores the prefix before exiting.

use std::sync::atomic::{AtomicBool, Ordering};

static REQUESTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_sig: libc::c_int) {
    REQUESTED.store(true, Ordering::SeqCst);
}

/// Installs the handlers. Without `SA_RESTART`, so a blocking `waitpid` in
/// the tracer returns `EINTR` and the flag is seen at once.
pub fn install() -> std::io::Result<()> {
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: a zeroed sigaction is a valid value of the C struct; the
        // handler only stores to an atomic, which is async-signal-safe.
        let rc = unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(sig, &action, std::ptr::null_mut())
        };
        if rc != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// True once an interrupt was received.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}
