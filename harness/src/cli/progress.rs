//! Progress of a long run: `--progress auto|always|never`.
//!
//! On a terminal, a bar on stderr with the elapsed time, a readable rate
//! and the ETA (for `auto`, only when the budget is 200 executions or
//! more). Off a terminal, a one-line heartbeat on stderr every 10 seconds
//! (executions, rate, elapsed), so that a long CI run is not silent; a run
//! shorter than that prints nothing. `never` shows nothing. Progress never
//! goes to stdout, so reports stay byte-identical.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressState, ProgressStyle};

use super::style::When;
use prefixrace::internals::thousands::thousands;

static PROGRESS: OnceLock<When> = OnceLock::new();

/// Sets the `--progress` choice for the rest of the process (first call wins).
pub fn set_progress(when: When) {
    let _ = PROGRESS.set(when);
}

/// The heartbeat interval: 10 s, or `PREFIXRACE_PROGRESS_INTERVAL` seconds
/// (for tests of the heartbeat itself).
fn interval() -> Duration {
    std::env::var("PREFIXRACE_PROGRESS_INTERVAL")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0 && *s < 86_400.0)
        .map_or(Duration::from_secs(10), Duration::from_secs_f64)
}

/// What is counted, and how many of it are expected.
pub struct Work {
    /// The command, for the heartbeat line (`explore`).
    pub command: &'static str,
    /// What runs, e.g. the strategy and which of how many (`direct-install (2/6)`).
    pub label: String,
    /// The budget of executions (`u64::MAX`: none, the bar counts up).
    pub total: u64,
}

/// The progress display of one run; [`Progress::finish`] clears it.
pub struct Progress {
    bar: Option<ProgressBar>,
    heartbeat: Option<(mpsc::Sender<()>, JoinHandle<()>)>,
    done: Arc<AtomicU64>,
}

impl Progress {
    /// Starts showing the progress of `work`, as `--progress` and stderr allow.
    pub fn start(work: Work) -> Progress {
        let when = PROGRESS.get().copied().unwrap_or_default();
        let done = Arc::new(AtomicU64::new(0));
        let mut progress = Progress {
            bar: None,
            heartbeat: None,
            done: done.clone(),
        };
        if when == When::Never {
            return progress;
        }
        if std::io::stderr().is_terminal() {
            if when == When::Always || work.total >= 200 {
                progress.bar = Some(bar(&work));
            }
        } else {
            progress.heartbeat = Some(heartbeat(work, done));
        }
        progress
    }

    /// The callback that exploration calls with the executions done so far.
    pub fn callback(&self) -> Option<Arc<dyn Fn(u64) + Send + Sync>> {
        if self.bar.is_none() && self.heartbeat.is_none() {
            return None;
        }
        let bar = self.bar.clone();
        let done = self.done.clone();
        Some(Arc::new(move |n: u64| {
            done.store(n, Ordering::Relaxed);
            if let Some(b) = &bar {
                b.set_position(n);
            }
        }))
    }

    /// Clears the bar and stops the heartbeat.
    pub fn finish(self) {
        if let Some(b) = self.bar {
            b.finish_and_clear();
        }
        if let Some((stop, thread)) = self.heartbeat {
            drop(stop);
            let _ = thread.join();
        }
    }
}

/// A rate in words: `12,345/s`, or `2.5/s` below 100.
fn rate(per_second: f64) -> String {
    if !per_second.is_finite() || per_second <= 0.0 {
        "0/s".to_string()
    } else if per_second < 100.0 {
        format!("{per_second:.1}/s")
    } else {
        format!("{}/s", thousands(per_second.round() as u64))
    }
}

/// `h:mm:ss`, or `m:ss` under an hour.
fn clock(d: Duration) -> String {
    let s = d.as_secs();
    match s / 3600 {
        0 => format!("{}:{:02}", s / 60, s % 60),
        h => format!("{h}:{:02}:{:02}", (s / 60) % 60, s % 60),
    }
}

fn bar(work: &Work) -> ProgressBar {
    let bounded = work.total != u64::MAX;
    let bar = if bounded {
        ProgressBar::new(work.total)
    } else {
        ProgressBar::new_spinner()
    };
    let template = if bounded {
        "{msg} {elapsed} [{bar:30}] {human_pos}/{human_len} executions, {rate}, ETA {eta}"
    } else {
        "{msg} {elapsed} {spinner} {human_pos} executions, {rate} (to the end of the search)"
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        let style = style
            .with_key(
                "rate",
                |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = w.write_str(&rate(state.per_sec()));
                },
            )
            .progress_chars("=> ");
        bar.set_style(style);
    }
    bar.set_message(work.label.clone());
    if !bounded {
        bar.enable_steady_tick(Duration::from_millis(200));
    }
    bar
}

fn heartbeat(work: Work, done: Arc<AtomicU64>) -> (mpsc::Sender<()>, JoinHandle<()>) {
    let (stop, stopped) = mpsc::channel::<()>();
    let every = interval();
    let thread = std::thread::spawn(move || {
        let start = Instant::now();
        while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(every) {
            let n = done.load(Ordering::Relaxed);
            let elapsed = start.elapsed();
            let of = match work.total {
                u64::MAX => String::new(),
                total => format!(" of {}", thousands(total)),
            };
            let _ = writeln!(
                std::io::stderr(),
                "prefixrace {}: {}: {}{of} executions, {}, {} elapsed",
                work.command,
                work.label,
                thousands(n),
                rate(n as f64 / elapsed.as_secs_f64()),
                clock(elapsed)
            );
        }
    });
    (stop, thread)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_clocks_read_easily() {
        assert_eq!(rate(2.456), "2.5/s");
        assert_eq!(rate(123_456.7), "123,457/s");
        assert_eq!(rate(f64::NAN), "0/s");
        assert_eq!(clock(Duration::from_secs(75)), "1:15");
        assert_eq!(clock(Duration::from_secs(3725)), "1:02:05");
    }
}
