//! The dpor search as a sequence of executions, for a portfolio.
//!
//! The dpor search is sequential: each execution depends on the races of
//! the earlier ones. A portfolio ([`crate::portfolio`]) interleaves its
//! executions with others', so the search ([`DporSearch`]) runs on a
//! thread of its own and hands over one judged execution at a time through
//! a rendezvous channel:
//! it runs at most one execution ahead of what was asked, and stops when
//! the feed is dropped. What the `k`-th execution is depends only on the
//! search, never on when it is asked for. An execution's conflicting pairs
//! (a replay with events) are counted only once it was taken from the
//! channel: a run that never asks for one (`auto` with one schedule, whose
//! first is directed) replays none, which for 1,000 one-file packages was
//! a replay and 9 million pairs for nothing.

use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Arc;
use std::thread::{Scope, ScopedJoinHandle};

use crate::dpor::{Coverage, DporOptions, DporResult, DporSearch};
use crate::fs::FsKind;
use crate::oracle::{Judgement, Oracle};
use crate::pairs::{ExecutionPairs, ShapeCache};
use crate::schedule::{JobId, ReplayScheduler};
use crate::setup::Setup;

/// One judged execution of the search.
#[derive(Debug)]
pub struct Fed {
    /// Its choices (a token replays it).
    pub choices: Vec<JobId>,
    /// Its verdict.
    pub judgement: Arc<Judgement>,
    /// Its conflicting pairs, when counted.
    pub pairs: Option<ExecutionPairs>,
}

/// The search, running on its own thread.
pub struct DporFeed<'scope> {
    rx: Option<Receiver<Fed>>,
    /// The pairs of each execution taken from `rx`, in order (`None` when
    /// not counted).
    pairs_rx: Option<Receiver<Option<ExecutionPairs>>>,
    /// The execution after the last one handed out, received ahead so
    /// that the end of the search is known as soon as it is reached.
    ahead: Option<Fed>,
    started: bool,
    handle: Option<ScopedJoinHandle<'scope, crate::Result<DporResult>>>,
    taken: u64,
}

impl<'scope> DporFeed<'scope> {
    /// Starts the search of `setup` on `scope`, judging with `oracle`, on
    /// filesystems of kind `fs`, counting pairs with `shapes` when given.
    pub fn start<'env>(
        scope: &'scope Scope<'scope, 'env>,
        setup: &'env Setup,
        oracle: &'env Oracle,
        fs: FsKind,
        shapes: Option<&'env ShapeCache>,
    ) -> DporFeed<'scope> {
        let (tx, rx) = sync_channel::<Fed>(0);
        // One slot: the search counts an execution's pairs as soon as it
        // was taken, and need not wait for them to be taken in turn.
        let (pairs_tx, pairs_rx) = sync_channel::<Option<ExecutionPairs>>(1);
        let handle = scope.spawn(move || {
            let fresh = || fs.fresh_unkeyed();
            let options = DporOptions::default();
            let mut search = DporSearch::new(setup, &options, &fresh);
            while let Some(execution) = search.next_execution()? {
                let trace = &execution.trace;
                let judgement = Arc::new(oracle.judge(trace));
                let failed = judgement.failure.is_some();
                let fed = Fed {
                    choices: trace.schedule.choices.clone(),
                    judgement,
                    pairs: None,
                };
                // Stop when nobody asks any more.
                if tx.send(fed).is_err() {
                    break;
                }
                // Taken: the search keeps no events, so replay the
                // schedule with them to count its pairs.
                let pairs = shapes.and_then(|shapes| {
                    let mut fs = fs.fresh_unkeyed().ok()?;
                    let mut replay = ReplayScheduler::new(trace.schedule.clone());
                    Some(shapes.execution(&setup.run(fs.as_mut(), &mut replay, true).events))
                });
                // A feed that stopped asking does not stop the search here:
                // like one that asks, it stops it at the next send, so the
                // search has run the same executions when it is finished
                // (its branches left are in the report).
                let _ = pairs_tx.send(pairs);
                if failed {
                    break;
                }
            }
            Ok(search.finish())
        });
        DporFeed {
            rx: Some(rx),
            pairs_rx: Some(pairs_rx),
            ahead: None,
            started: false,
            handle: Some(handle),
            taken: 0,
        }
    }

    /// The next execution of the search, or `None` when the search ended
    /// (complete, or stopped at a failure handed out before). Waits for
    /// the one after it too, so that [`DporFeed::ended`] is known.
    pub fn next_execution(&mut self) -> Option<Fed> {
        if !self.started {
            self.started = true;
            self.ahead = self.receive();
        }
        let mut fed = self.ahead.take()?;
        fed.pairs = self.pairs_rx.as_ref()?.recv().ok().flatten();
        self.taken += 1;
        self.ahead = self.receive();
        Some(fed)
    }

    /// True when the search has no execution after the last one handed
    /// out. Known without timing: the search either sends its next
    /// execution or ends, and the feed waits for either.
    pub fn ended(&self) -> bool {
        self.started && self.ahead.is_none()
    }

    fn receive(&self) -> Option<Fed> {
        self.rx.as_ref()?.recv().ok()
    }

    /// Executions handed out.
    pub fn taken(&self) -> u64 {
        self.taken
    }

    /// Stops the search and returns its coverage: the search's own when it
    /// ended by itself (every execution of it was handed out: the channel
    /// is a rendezvous), else an incomplete one counting the executions
    /// handed out.
    pub fn finish(mut self) -> crate::Result<Coverage> {
        drop(self.ahead.take());
        drop(self.rx.take());
        drop(self.pairs_rx.take());
        let result = self
            .handle
            .take()
            .expect("finished once")
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
        if result.coverage.complete {
            return Ok(result.coverage);
        }
        Ok(Coverage {
            classes: self.taken,
            complete: false,
            reason: Some(format!(
                "dpor ran {} of its search",
                if self.taken == 1 {
                    "1 execution".to_string()
                } else {
                    format!("{} executions", self.taken)
                }
            )),
            fingerprints: Vec::new(),
            searched: self.taken,
            branches_left: result.coverage.branches_left,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::builtin;
    use crate::strategy::DirectInstall;

    /// What the search has run when the feed is finished does not depend
    /// on when: finished at once after taking some executions, or after a
    /// pause (by which the search has counted the pairs of the execution
    /// taken ahead and run the next), the coverage is the same.
    #[test]
    fn the_coverage_does_not_depend_on_when_the_feed_is_finished() {
        let scenario = Arc::new(builtin::load("sage-32361").unwrap());
        let setup = Setup::new(scenario, &DirectInstall).unwrap();
        let oracle = Oracle::new(&setup).unwrap();
        let shapes = ShapeCache::new(setup.job_count());
        let coverage = |taken: usize, pause: u64| {
            std::thread::scope(|scope| {
                let mut feed =
                    DporFeed::start(scope, &setup, &oracle, FsKind::Model, Some(&shapes));
                for _ in 0..taken {
                    assert!(feed.next_execution().unwrap().pairs.is_some());
                }
                std::thread::sleep(std::time::Duration::from_millis(pause));
                feed.finish().unwrap()
            })
        };
        for taken in [0, 1, 3] {
            let settled = coverage(taken, 200);
            for _ in 0..5 {
                assert_eq!(coverage(taken, 0), settled, "{taken} taken");
            }
        }
    }
}
