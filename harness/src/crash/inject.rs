//! Strikes one op of an execution with a fault: the [`Observer`] that
//! runs a [`FaultPoint`].

use super::point::FaultPoint;
use crate::dpor::Strike;
use crate::execution::{Flow, Observer, Progress};
use crate::fault::{Fault, Struck};
use crate::fs::Fs;
use crate::job::Job;
use crate::op::OpResult;
use crate::schedule::JobId;

/// Runs an execution with `point`'s op struck by its fault, and the rest
/// of a short write written by the job's next call.
#[derive(Clone)]
pub(crate) struct Injector {
    point: FaultPoint,
    /// Ops the struck job has run so far.
    ops: usize,
    /// The first half of a short write is written; the job's next call
    /// writes the rest.
    rest_pending: bool,
    /// Set once the fault struck.
    pub struck: bool,
}

impl Injector {
    /// Strikes `point` in an execution run from its start.
    pub(crate) fn new(point: FaultPoint) -> Injector {
        Injector::resuming(point, 0)
    }

    /// Strikes `point` in an execution forked off another, where the
    /// struck job has already run `ops_run` ops.
    pub(crate) fn resuming(point: FaultPoint, ops_run: usize) -> Injector {
        Injector {
            point,
            ops: ops_run,
            rest_pending: false,
            struck: false,
        }
    }
}

impl Strike for Injector {
    fn strike(&mut self, id: JobId, job: &dyn Job, fs: &mut dyn Fs) -> Option<Struck> {
        Observer::strike(self, id, job, fs)
    }

    fn copy(&self) -> Box<dyn Strike> {
        Box::new(self.clone())
    }
}

impl Observer for Injector {
    fn decision_point(&mut self, _: &mut Progress, _: &dyn Fs) -> Flow {
        Flow::Go
    }

    fn picked(&mut self, _: JobId) {}

    fn op_ran(&mut self, _: JobId, _: &OpResult) {}

    fn strike(&mut self, id: JobId, job: &dyn Job, fs: &mut dyn Fs) -> Option<Struck> {
        if id != self.point.job {
            return None;
        }
        let op = job.offered();
        let nth = self.ops;
        self.ops += 1;
        if std::mem::take(&mut self.rest_pending) {
            return Some(Fault::rest_of_short_write(op, fs));
        }
        if nth != self.point.after_ops || !self.point.fault.strikes(op) {
            return None;
        }
        self.struck = true;
        let struck = self
            .point
            .fault
            .strike(op, job.writes_rest_of_short_write(), fs);
        self.rest_pending = self.point.fault == Fault::ShortWrite && struck.handed.is_none();
        Some(struck)
    }
}
