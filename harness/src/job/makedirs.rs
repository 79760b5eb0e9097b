//! Python's `os.makedirs`, as a reusable piece of a job's state machine.
//!
//! `os.makedirs(name)` stats the parent (`os.path.exists(head)`), recurses
//! into it when missing, then calls `mkdir(name, 0o777)`. pip's `ensure_dir`
//! and `py_compile` ignore EEXIST on that mkdir. The recorded pip traces show
//! exactly this pattern: `newfstatat(head)` then `mkdir(name, 0777)`.

use std::sync::Arc;

use crate::fs::parent_of;
use crate::op::{Errno, Op, OpResult};

/// Progress of one `makedirs(target)` call.
#[derive(Debug, Clone, Hash)]
pub struct Makedirs {
    /// Directories still to mkdir; the outermost is on top of the stack.
    to_create: Vec<Arc<str>>,
    /// The directory whose parent we are about to stat.
    probing: Option<Arc<str>>,
}

/// What `makedirs` wants next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MakedirsStep {
    /// Run this op.
    Op(Op),
    /// Done; the directory exists (or an EEXIST was ignored).
    Done,
    /// Failed with this errno on this path.
    Failed(Errno, Arc<str>),
}

impl Makedirs {
    /// Starts `makedirs(target)`; `target` is relative to the prefix root.
    pub fn new(target: Arc<str>) -> Makedirs {
        Makedirs {
            to_create: vec![target.clone()],
            probing: Some(target),
        }
    }

    /// The next op, or the outcome.
    pub fn step(&self) -> MakedirsStep {
        if let Some(dir) = &self.probing {
            return MakedirsStep::Op(Op::Stat {
                path: parent_of(dir).into(),
            });
        }
        match self.to_create.last() {
            Some(dir) => MakedirsStep::Op(Op::Mkdir {
                path: dir.clone(),
                mode: 0o777,
            }),
            None => MakedirsStep::Done,
        }
    }

    /// Feeds the result of the op from [`Makedirs::step`]. Returns a failure
    /// when the call raises.
    pub fn complete(&mut self, result: &OpResult) -> Option<MakedirsStep> {
        if let Some(dir) = self.probing.take() {
            let head = parent_of(&dir);
            if result.is_err() && !head.is_empty() {
                let head: Arc<str> = head.into();
                self.to_create.push(head.clone());
                self.probing = Some(head);
            }
            return None;
        }
        let dir = self.to_create.pop()?;
        match result {
            Ok(_) | Err(Errno::EEXIST) | Err(Errno::ENOTEMPTY) => None,
            Err(e) => Some(MakedirsStep::Failed(*e, dir)),
        }
    }
}
