//! The PCT miss-probability bound of a run.
//!
//! PCT (Burckhardt, Kothari, Musuvathi, Nagarakatte, ASPLOS 2010) finds a bug
//! of depth `d` in a program of `n` threads and at most `k` steps with
//! probability at least `1/(n·k^(d−1))` per run. After `m` independent runs
//! a depth-`d` bug is therefore missed with probability at most
//! `(1 − 1/(n·k^(d−1)))^m`. Here `n` is the number of jobs of the scenario
//! and `k` the largest number of ops of one execution of the run.
//!
//! Random sampling carries no such guarantee; for random runs the report
//! gives the depth-2 bound as what an equally long `pct:2` run would
//! guarantee, labelled by [`PctBound::guarantee_of`].
//!
//! The bound is rounded to 6 significant digits, so that the last bits of
//! `ln_1p`/`exp` never show in a report: the same inputs always print the
//! same bytes.

use serde::{Deserialize, Serialize};

/// The miss-probability bound of a PCT (or PCT-equivalent) run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PctBound {
    /// The bug depth `d` the bound is for.
    pub depth: u64,
    /// Jobs of the scenario.
    pub n: u64,
    /// The largest number of ops of one execution of the run.
    pub k: u64,
    /// Runs (executions) `m`.
    pub runs: u64,
    /// `(1 − 1/(n·k^(d−1)))^m`, rounded to 6 significant digits.
    pub bound: f64,
    /// The scheduler of the run: `pct:D` or `random`.
    pub scheduler: String,
    /// The scheduler the guarantee belongs to: the run's own `pct:D`, or
    /// `pct:2` for a random run (which itself guarantees nothing).
    pub guarantee_of: String,
}

impl PctBound {
    /// The bound for depth `depth`, `n` jobs, `k` ops and `runs` runs of a
    /// run under `scheduler`; a random run gets the guarantee of `pct:DEPTH`.
    pub fn new(scheduler: &str, depth: u64, n: u64, k: u64, runs: u64) -> PctBound {
        PctBound {
            depth,
            n,
            k,
            runs,
            bound: miss_bound(depth, n, k, runs),
            scheduler: scheduler.to_string(),
            guarantee_of: format!("pct:{depth}"),
        }
    }

    /// The bound as text: fixed point, or scientific below 1e-4.
    pub fn bound_text(&self) -> String {
        if self.bound != 0.0 && self.bound < 1e-4 {
            format!("{:.5e}", self.bound)
        } else {
            format!("{}", self.bound)
        }
    }

    /// The report line, ending in a newline.
    pub fn text(&self) -> String {
        let whose = if self.guarantee_of == self.scheduler {
            String::new()
        } else {
            format!(
                "; what an equally long {} run would guarantee: {} sampling guarantees nothing",
                self.guarantee_of, self.scheduler
            )
        };
        format!(
            "pct bound: a depth-{} bug is missed with probability <= {} after {} run{} (n = {} jobs, k = {} ops{whose})\n",
            self.depth,
            self.bound_text(),
            crate::thousands::thousands(self.runs),
            if self.runs == 1 { "" } else { "s" },
            self.n,
            crate::thousands::thousands(self.k)
        )
    }
}

/// `(1 − 1/(n·k^(d−1)))^m`, rounded to 6 significant digits; 1 when
/// `m = 0`, and 1 when `n` or `k` is 0 (nothing ran, nothing is promised).
pub fn miss_bound(depth: u64, n: u64, k: u64, runs: u64) -> f64 {
    if runs == 0 || n == 0 || k == 0 {
        return 1.0;
    }
    let exponent = i32::try_from(depth.saturating_sub(1)).unwrap_or(i32::MAX);
    let per_run = 1.0 / (n as f64 * (k as f64).powi(exponent));
    let bound = if per_run >= 1.0 {
        0.0
    } else {
        (runs as f64 * (-per_run).ln_1p()).exp()
    };
    round6(bound)
}

/// Rounds to 6 significant digits.
fn round6(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    format!("{x:.5e}").parse().unwrap_or(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bound_follows_the_formula_and_prints_stably() {
        // n = 3, k = 3000, d = 2: p = 1/9000 per run.
        let b = PctBound::new("pct:2", 2, 3, 3000, 200);
        let exact = (1.0f64 - 1.0 / 9000.0).powi(200);
        assert!((b.bound - exact).abs() < 1e-6, "{b:?} vs {exact}");
        assert_eq!(b.bound_text(), "0.978022");
        assert_eq!(miss_bound(1, 2, 10, 1), 0.5);
        assert_eq!(miss_bound(2, 2, 10, 0), 1.0);
        assert_eq!(miss_bound(1, 1, 10, 5), 0.0);
        let tiny = PctBound::new("pct:1", 1, 2, 5, 100);
        assert_eq!(tiny.bound_text(), "7.88861e-31");
        assert!(PctBound::new("pct:2", 2, 3, 3000, 200).text().starts_with(
            "pct bound: a depth-2 bug is missed with probability <= 0.978022 after 200 runs"
        ));
    }
}
