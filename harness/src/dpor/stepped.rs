//! The search one execution at a time, for callers that interleave it with
//! other work (a portfolio of schedulers taking turns).
//!
//! ```no_run
//! # fn main() -> prefixrace::Result<()> {
//! use prefixrace::internals::dpor::{DporOptions, DporSearch};
//! # let setup: prefixrace::Setup = unimplemented!();
//! let fresh = || prefixrace::internals::fs::FsKind::Model.fresh_unkeyed();
//! let options = DporOptions::default();
//! let mut dpor = DporSearch::new(&setup, &options, &fresh);
//! while let Some(execution) = dpor.next_execution()? {
//!     // Judge `execution.trace`; stop calling when it failed, or to give
//!     // the turn to another scheduler and come back later.
//!     let _ = (execution.index, execution.trace.schedule.token());
//! }
//! let result = dpor.finish(); // complete: true, since it ran to its end
//! assert!(result.coverage.complete);
//! # Ok(()) }
//! ```

use super::{Advanced, DporOptions, DporResult, Exec, Fingerprint, Fresh, Search, Stop};
use crate::execution::ExecutionTrace;
use crate::setup::Setup;

/// One execution of the search, handed to the caller to judge.
#[derive(Debug, Clone)]
pub struct DporExecution {
    /// Its 1-based index in the whole search (as in [`DporResult::failure`]).
    pub index: u64,
    /// Its trace (without events): the choices replay it
    /// (`trace.schedule.token()`).
    pub trace: ExecutionTrace,
    /// Its class fingerprint.
    pub fingerprint: Fingerprint,
    /// Sleep-set blocked or diverged (never, when the search is optimal).
    pub blocked: bool,
}

/// A DPOR search run one execution at a time ([`DporSearch::next_execution`]).
///
/// It yields exactly the executions, in the same order, that
/// [`super::explore_with`] judges with the same options, and counts them
/// the same way; the caller judges them. With a shard, only the shard's
/// executions are handed out (the others still run, for their races).
pub struct DporSearch<'a> {
    search: Search<'a, ()>,
    /// Set once the search ended: why, or `None` when it is complete.
    ended: Option<Option<Stop>>,
}

fn no_analyze(_: &ExecutionTrace) {}

/// A search from a root never starts from scratch: its root is on the
/// model, so every execution resumes from a copy of it.
fn no_fresh() -> crate::Result<Box<dyn crate::Fs>> {
    Err(crate::Error::Usage(
        "a search from a root state never starts from scratch".to_string(),
    ))
}

fn no_commit(_: &ExecutionTrace, (): ()) -> (Vec<String>, bool) {
    (Vec::new(), false)
}

impl<'a> DporSearch<'a> {
    /// A search of `setup` with `options`, on filesystems from `fresh`
    /// (executions run on the calling thread).
    pub fn new(setup: &'a Setup, options: &DporOptions<'a>, fresh: Fresh<'a>) -> DporSearch<'a> {
        let exec = Exec::Sequential {
            fresh,
            analyze: &no_analyze,
        };
        let mut search = Search::new(setup, options, exec, &no_commit);
        search.hand_out = Some(None);
        DporSearch {
            search,
            ended: None,
        }
    }

    /// A search of the continuations of `root`: every execution starts
    /// from that state (the model filesystem and the jobs as they are
    /// there, its step count 0), and only the steps after it are the
    /// search's (branched on, related by dependence, fingerprinted). The
    /// filesystem each execution ends with is kept for the caller
    /// ([`DporSearch::take_end`]). A crash or fault state's survivors run
    /// on this way in every order (`crash/orders.rs`).
    pub(crate) fn from_root(
        setup: &'a Setup,
        options: &DporOptions<'a>,
        root: super::machine::Machine,
    ) -> DporSearch<'a> {
        let mut search = DporSearch::new(setup, options, &no_fresh);
        search.search.path = super::path::Path::from_root(setup.job_count(), root);
        search
    }

    /// The filesystem the execution returned last ended with, for a search
    /// [from a root](DporSearch::from_root).
    pub(crate) fn take_end(&mut self) -> Option<Box<dyn crate::Fs>> {
        self.search.path.take_end()
    }

    /// Runs the search's next execution and returns it, or `None` once the
    /// search is complete or stopped by its options (budget, stop callback,
    /// deadline); it then keeps returning `None`.
    pub fn next_execution(&mut self) -> crate::Result<Option<DporExecution>> {
        if self.ended.is_some() {
            return Ok(None);
        }
        loop {
            match self.search.advance()? {
                Advanced::Ran => {
                    if let Some(e) = self.search.hand_out.as_mut().and_then(Option::take) {
                        return Ok(Some(e));
                    }
                }
                Advanced::Stopped(stop) => {
                    self.ended = Some(Some(stop));
                    return Ok(None);
                }
                Advanced::Complete => {
                    self.ended = Some(None);
                    return Ok(None);
                }
            }
        }
    }

    /// True once [`DporSearch::next_execution`] found nothing left to explore.
    pub fn is_complete(&self) -> bool {
        matches!(self.ended, Some(None))
    }

    /// Branches still pending now (see [`super::Coverage::branches_left`]).
    pub fn branches_left(&self) -> u64 {
        self.search.branches_left()
    }

    /// Executions run so far (this shard's or not).
    pub fn executions(&self) -> u64 {
        self.search.started
    }

    /// Ends the search: its counts and coverage. Complete when
    /// [`DporSearch::next_execution`] returned `None` because nothing was
    /// left; otherwise incomplete, with the reason (the options' limit, or
    /// "stopped after N executions" when the caller stopped calling).
    /// `failure` is always `None`: the caller judged the executions.
    pub fn finish(mut self) -> DporResult {
        let stop = self.ended.unwrap_or(Some(Stop::Stopped));
        self.search.conclude(stop);
        self.search.into_result()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::dpor::Machine;
    use crate::fs::FsKind;
    use crate::schedule::DporScheduler;
    use crate::strategy::DirectInstall;

    /// Every execution of `search`: its choices, class fingerprint and
    /// final tree (from the trace, and from the kept end when `ends`).
    fn all(mut search: DporSearch<'_>, ends: bool) -> Vec<String> {
        let mut out = Vec::new();
        while let Some(e) = search.next_execution().unwrap() {
            if ends {
                let end = search.take_end().expect("the end is kept");
                assert_eq!(end.tree(), e.trace.tree, "the kept end is the trace's");
            }
            out.push(format!(
                "{:?} {} {:?} {:?}",
                e.trace.schedule.choices, e.fingerprint, e.trace.outcomes, e.trace.tree
            ));
        }
        assert!(search.is_complete());
        out
    }

    /// A search from a root that is the setup's own initial state runs
    /// exactly the executions, in the same order, of the search from
    /// scratch: the root only changes where executions start.
    #[test]
    fn a_search_from_the_initial_state_as_root_is_the_search_itself() {
        let scenarios = [
            crate::scenario::load(std::path::Path::new("tests/data/crash/survivor-order.toml"))
                .unwrap(),
            crate::scenario::builtin::load("sage-32361").unwrap(),
        ];
        for scenario in scenarios {
            let setup = Setup::new(Arc::new(scenario), &DirectInstall).unwrap();
            let options = DporOptions {
                race_directed: false,
                ..DporOptions::default()
            };
            let fresh = || FsKind::Model.fresh_unkeyed();
            let plain = all(DporSearch::new(&setup, &options, &fresh), false);
            let mut fs = FsKind::Model.fresh_unkeyed().unwrap();
            let mut none = DporScheduler::new(Vec::new(), 0, Vec::new());
            assert!(setup
                .lay_down_initial(fs.as_mut(), &mut none, false)
                .is_ok());
            let root = Machine::new(setup.jobs(), fs).into_root();
            let rooted = all(DporSearch::from_root(&setup, &options, root), true);
            assert!(plain.len() > 1, "{}", setup.scenario.name);
            assert_eq!(plain, rooted, "{}", setup.scenario.name);
        }
    }
}
