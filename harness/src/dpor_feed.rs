//! The dpor search as a sequence of executions, for a portfolio.
//!
//! The dpor search is sequential: each execution depends on the races of
//! the earlier ones. A portfolio ([`crate::portfolio`]) interleaves its
//! executions with others', so the search ([`DporSearch`]) runs on a
//! thread of its own and hands over one judged execution at a time through
//! a rendezvous channel:
//! it runs at most one execution ahead of what was asked, and stops when
//! the feed is dropped. What the `k`-th execution is depends only on the
//! search, never on when it is asked for.

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
        let handle = scope.spawn(move || {
            let fresh = || fs.fresh_unkeyed();
            let options = DporOptions::default();
            let mut search = DporSearch::new(setup, &options, &fresh);
            while let Some(execution) = search.next_execution()? {
                let trace = &execution.trace;
                let judgement = Arc::new(oracle.judge(trace));
                // The search keeps no events: replay the schedule with them.
                let pairs = shapes.and_then(|shapes| {
                    let mut fs = fs.fresh_unkeyed().ok()?;
                    let mut replay = ReplayScheduler::new(trace.schedule.clone());
                    Some(shapes.execution(&setup.run(fs.as_mut(), &mut replay, true).events))
                });
                let failed = judgement.failure.is_some();
                let fed = Fed {
                    choices: trace.schedule.choices.clone(),
                    judgement,
                    pairs,
                };
                // Stop at a failure, or when nobody asks any more.
                if tx.send(fed).is_err() || failed {
                    break;
                }
            }
            Ok(search.finish())
        });
        DporFeed {
            rx: Some(rx),
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
        let fed = self.ahead.take()?;
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
