//! [`HeldOp`]: the op a job offers, kept by the job until it is completed,
//! so that a job that works out its next move as a [`Step`] can lend its
//! op by reference ([`crate::job::Job::offered`]).

use super::{Offer, Step};
use crate::op::Op;

/// [`crate::job::Job::poll`] and [`crate::job::Job::offered`] for a job
/// that works out its next move as a [`Step`] in an inherent
/// `fn next_step(&mut self, probe) -> Step` and keeps the op it offers in
/// a `held: HeldOp` field: the op is worked out once, then lent until
/// `complete` (which calls `self.held.release()` first).
macro_rules! lend_held_op {
    () => {
        fn poll(&mut self, probe: &dyn Fn(&str) -> Option<crate::op::Kind>) -> crate::job::Offer {
            if self.held.is_held() {
                return crate::job::Offer::Op;
            }
            let step = self.next_step(probe);
            self.held.hold(step)
        }

        fn offered(&self) -> &crate::op::Op {
            self.held.op()
        }
    };
}
pub(crate) use lend_held_op;

/// The op a job offers, held from the poll that offered it until the
/// result comes back.
#[derive(Debug, Clone, Default)]
pub struct HeldOp(Option<Op>);

impl HeldOp {
    /// True while an offered op waits for its result: the job's next poll
    /// offers it again without working anything out.
    pub fn is_held(&self) -> bool {
        self.0.is_some()
    }

    /// Keeps the op of `step`, if it is one, and says what the job offers.
    pub fn hold(&mut self, step: Step) -> Offer {
        match step {
            Step::Op(op) => {
                self.0 = Some(op);
                Offer::Op
            }
            Step::Wait(condition) => Offer::Wait(condition),
            Step::Exit(code) => Offer::Exit(code),
        }
    }

    /// The op held. Panics when none is (the last poll offered no op).
    pub fn op(&self) -> &Op {
        self.0.as_ref().expect("the last poll offered an op")
    }

    /// The result of the held op came back: the job offers it no more.
    pub fn release(&mut self) {
        self.0 = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::Condition;

    #[test]
    fn holds_only_ops_until_released() {
        let mut held = HeldOp::default();
        let wait = Condition::Absent {
            path: "lock".into(),
        };
        assert_eq!(held.hold(Step::Wait(wait.clone())), Offer::Wait(wait));
        assert!(!held.is_held());
        assert_eq!(held.hold(Step::Exit(3)), Offer::Exit(3));
        assert!(!held.is_held());
        let op = Op::Lstat { path: "a".into() };
        assert_eq!(held.hold(Step::Op(op.clone())), Offer::Op);
        assert!(held.is_held());
        assert_eq!(held.op(), &op);
        held.release();
        assert!(!held.is_held());
    }
}
