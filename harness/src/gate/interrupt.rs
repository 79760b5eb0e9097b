//! Signals and the per-execution deadline. SIGINT, SIGTERM, SIGHUP and
//! SIGPIPE only raise a flag; the tracer sees it at its next turn, kills and
//! reaps every traced process, and the run restores the prefix and removes
//! its directory before exiting. A reader that goes away (`| head -1`) is
//! treated like Ctrl-C: writes to a closed stdout request the same stop.
//!
//! The deadline is a `SIGALRM` timer armed for each execution: its handler
//! raises another flag, which the tracer turns into a hang report.

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::time::Duration;

static REQUESTED: AtomicI32 = AtomicI32::new(0);
static EXPIRED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(sig: libc::c_int) {
    REQUESTED.store(sig, Ordering::SeqCst);
}

extern "C" fn on_alarm(_sig: libc::c_int) {
    EXPIRED.store(true, Ordering::SeqCst);
}

/// Installs `handler` for `sig`, without `SA_RESTART`, so a blocking
/// `waitpid` in the tracer returns `EINTR` and the flag is seen at once.
fn handle(sig: libc::c_int, handler: extern "C" fn(libc::c_int)) -> std::io::Result<()> {
    // SAFETY: a zeroed sigaction is a valid value of the C struct; the
    // handlers only store to atomics, which is async-signal-safe.
    let rc = unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = handler as libc::sighandler_t;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(sig, &action, std::ptr::null_mut())
    };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Installs the handlers of SIGINT, SIGTERM, SIGHUP and SIGPIPE.
pub fn install() -> std::io::Result<()> {
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGPIPE] {
        handle(sig, on_signal)?;
    }
    Ok(())
}

/// True once an interrupt was received (or requested).
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst) != 0
}

/// The signal that interrupted the run, if any.
pub fn signal() -> Option<i32> {
    match REQUESTED.load(Ordering::SeqCst) {
        0 => None,
        s => Some(s),
    }
}

/// Asks the run to stop as if `sig` had arrived (a write to a closed
/// stdout requests `SIGPIPE`).
pub fn request(sig: i32) {
    REQUESTED.store(sig, Ordering::SeqCst);
}

/// The armed deadline of one execution; disarmed when dropped.
#[derive(Debug)]
pub struct Deadline(());

impl Deadline {
    /// Arms a one-shot `SIGALRM` after `timeout` and clears the expiry flag.
    pub fn arm(timeout: Duration) -> Deadline {
        EXPIRED.store(false, Ordering::SeqCst);
        // Installing it here too keeps library callers safe from SIGALRM's
        // default action, which would kill the process.
        let _ = handle(libc::SIGALRM, on_alarm);
        set_timer(timeout);
        Deadline(())
    }

    /// True once the armed deadline has passed.
    pub fn passed() -> bool {
        EXPIRED.load(Ordering::SeqCst)
    }
}

impl Drop for Deadline {
    fn drop(&mut self) {
        set_timer(Duration::ZERO);
        EXPIRED.store(false, Ordering::SeqCst);
    }
}

fn set_timer(after: Duration) {
    let value = libc::timeval {
        tv_sec: after.as_secs() as libc::time_t,
        tv_usec: after.subsec_micros() as libc::suseconds_t,
    };
    let timer = libc::itimerval {
        it_interval: libc::timeval {
            tv_sec: 0,
            tv_usec: 0,
        },
        it_value: value,
    };
    // SAFETY: setitimer reads the struct passed by pointer; no old value is asked for.
    unsafe {
        libc::setitimer(libc::ITIMER_REAL, &timer, std::ptr::null_mut());
    }
}
