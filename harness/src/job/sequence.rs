//! Jobs run one after another as one program, with a rollback: pip's
//! uninstall, install and commit, where a failed install puts the old
//! installation back.

use super::{Diagnostic, Job, Offer};
use crate::op::{Kind, Op, OpResult};

/// Runs `parts` in order under one label; when one exits non-zero, runs
/// `rollback` (whose own failure is not reported: pip's rollback is best
/// effort) and exits with the failed part's status.
#[derive(Clone)]
pub struct SequenceJob {
    label: String,
    program: &'static str,
    parts: Vec<Box<dyn Job>>,
    rollback: Option<Box<dyn Job>>,
    index: usize,
    /// The failed part's status, once the rollback runs.
    failed: Option<i32>,
    /// What the parts printed, copied as they print it.
    diagnostics: Vec<Diagnostic>,
    /// How many of the current part's diagnostics are copied.
    synced: usize,
}

impl SequenceJob {
    /// `parts` run in order as `program`, labelled `label`, with `rollback`
    /// run when one fails.
    pub fn new(
        label: String,
        program: &'static str,
        parts: Vec<Box<dyn Job>>,
        rollback: Option<Box<dyn Job>>,
    ) -> SequenceJob {
        SequenceJob {
            label,
            program,
            parts,
            rollback,
            index: 0,
            failed: None,
            diagnostics: Vec::new(),
            synced: 0,
        }
    }

    /// Copies what the current part printed since the last look; the
    /// rollback's lines are not the program's failure and are dropped.
    fn sync(&mut self) {
        if self.failed.is_some() {
            return;
        }
        let Some(part) = self.parts.get(self.index) else {
            return;
        };
        let printed = part.diagnostics();
        if printed.len() > self.synced {
            self.diagnostics.extend_from_slice(&printed[self.synced..]);
            self.synced = printed.len();
        }
    }

    /// The part running now: the rollback once one failed.
    fn current(&mut self) -> Option<&mut Box<dyn Job>> {
        match self.failed {
            Some(_) => self.rollback.as_mut(),
            None => self.parts.get_mut(self.index),
        }
    }
}

impl Job for SequenceJob {
    fn label(&self) -> &str {
        &self.label
    }

    fn program(&self) -> &'static str {
        self.program
    }

    fn poll(&mut self, probe: &dyn Fn(&str) -> Option<Kind>) -> Offer {
        loop {
            let failed = self.failed;
            let Some(part) = self.current() else {
                return Offer::Exit(failed.unwrap_or(0));
            };
            match part.poll(probe) {
                Offer::Exit(0) if failed.is_none() => {
                    self.sync();
                    self.index += 1;
                    self.synced = 0;
                }
                Offer::Exit(status) if failed.is_none() => {
                    self.sync();
                    self.failed = Some(status);
                }
                Offer::Exit(_) => return Offer::Exit(failed.unwrap_or(0)),
                other => return other,
            }
        }
    }

    fn offered(&self) -> &Op {
        let part = match self.failed {
            Some(_) => self.rollback.as_ref(),
            None => self.parts.get(self.index),
        };
        part.expect("the last poll offered an op").offered()
    }

    fn writes_rest_of_short_write(&self) -> bool {
        let part = match self.failed {
            Some(_) => self.rollback.as_ref(),
            None => self.parts.get(self.index),
        };
        part.is_none_or(|p| p.writes_rest_of_short_write())
    }

    fn complete(&mut self, result: &OpResult) {
        if let Some(part) = self.current() {
            part.complete(result);
        }
        self.sync();
    }

    fn stalled(&mut self) -> i32 {
        match self.current() {
            Some(part) => part.stalled(),
            None => 1,
        }
    }

    fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }
}
