//! Python's `os.makedirs`, as a reusable piece of a job's state machine.
//!
//! `os.makedirs(name)` stats the parent (`os.path.exists(head)`), recurses
//! into it when missing, then calls `mkdir(name, 0o777)`. pip's `ensure_dir`
//! and `py_compile` ignore EEXIST on that mkdir. The recorded pip traces show
//! exactly this pattern: `newfstatat(head)` then `mkdir(name, 0777)`.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use crate::fs::parent_of;
use crate::op::{Errno, Op, OpResult};

/// Progress of one `makedirs(target)` call.
#[derive(Debug, Clone)]
pub struct Makedirs {
    /// Directories still to mkdir; the outermost is on top of the stack.
    to_create: Vec<Arc<str>>,
    /// The directory whose parent we are about to stat, and that parent.
    probing: Option<(Arc<str>, Arc<str>)>,
}

/// Hashes what the state is (the directories to make, the one probed), as
/// when the parent was not kept beside it: the parent follows from it.
impl Hash for Makedirs {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.to_create.hash(state);
        self.probing.as_ref().map(|(dir, _)| dir).hash(state);
    }
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
        let parent = parent_of(&target).into();
        Makedirs::with_parent(target, parent)
    }

    /// [`Makedirs::new`] with `target`'s parent (`parent_of(target)`)
    /// named already: jobs that make the same directories in every
    /// execution name each parent once, not once per execution.
    pub fn with_parent(target: Arc<str>, parent: Arc<str>) -> Makedirs {
        debug_assert_eq!(&*parent, parent_of(&target));
        Makedirs {
            to_create: vec![target.clone()],
            probing: Some((target, parent)),
        }
    }

    /// The next op, or the outcome.
    pub fn step(&self) -> MakedirsStep {
        if let Some((_, parent)) = &self.probing {
            return MakedirsStep::Op(Op::Stat {
                path: parent.clone(),
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
        if let Some((_, head)) = self.probing.take() {
            if result.is_err() && !head.is_empty() {
                let up = parent_of(&head).into();
                self.to_create.push(head.clone());
                self.probing = Some((head, up));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state_key::StateHasher;

    fn key(h: &impl Hash) -> crate::state_key::StateKey {
        let mut state = StateHasher::default();
        h.hash(&mut state);
        state.finish128()
    }

    /// Two missing levels: stat, stat, stat (found), then mkdir outermost
    /// first. At every point the state hashes as the directories to make
    /// and the one probed, and a parent named up front changes nothing.
    #[test]
    fn recurses_through_missing_parents_and_hashes_its_state_alone() {
        let target: Arc<str> = "a/b/c".into();
        for mut md in [
            Makedirs::new(target.clone()),
            Makedirs::with_parent(target.clone(), "a/b".into()),
        ] {
            let mut seen = Vec::new();
            let results = [
                Err(Errno::ENOENT),
                Err(Errno::ENOENT),
                Ok(crate::op::Value::Unit),
                Ok(crate::op::Value::Unit),
                Err(Errno::EEXIST),
                Ok(crate::op::Value::Unit),
            ];
            for result in results {
                let probing: Option<Arc<str>> = md.probing.as_ref().map(|(d, _)| d.clone());
                assert_eq!(key(&md), key(&(md.to_create.clone(), probing)));
                let MakedirsStep::Op(op) = md.step() else {
                    panic!("an op is left")
                };
                seen.push(op.to_string());
                assert_eq!(md.complete(&result), None);
            }
            assert_eq!(md.step(), MakedirsStep::Done);
            let expected: Vec<String> = [
                Op::Stat { path: "a/b".into() },
                Op::Stat { path: "a".into() },
                Op::Stat { path: "".into() },
                Op::Mkdir {
                    path: "a".into(),
                    mode: 0o777,
                },
                Op::Mkdir {
                    path: "a/b".into(),
                    mode: 0o777,
                },
                Op::Mkdir {
                    path: "a/b/c".into(),
                    mode: 0o777,
                },
            ]
            .iter()
            .map(|op| op.to_string())
            .collect();
            assert_eq!(seen, expected);
        }
    }
}
