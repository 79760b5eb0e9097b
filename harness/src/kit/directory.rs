//! Creating a directory: Python's tolerant `os.makedirs(exist_ok=True)`
//! (through [`super::Makedirs`]), or a strict `mkdir` that fails on EEXIST.

use std::sync::Arc;

use super::{Failure, Makedirs, MakedirsStep, Next, Primitive};
use crate::op::{Kind, Op, OpResult};

#[derive(Debug, Clone)]
enum Phase {
    Tolerant(Makedirs),
    Strict,
    Done,
    Failed(Failure),
}

/// A directory creation in progress.
#[derive(Debug, Clone)]
pub struct CreateDir {
    dir: Arc<str>,
    phase: Phase,
}

impl CreateDir {
    /// `os.makedirs(dir, exist_ok=True)`.
    pub fn tolerant(dir: &Arc<str>) -> CreateDir {
        CreateDir {
            dir: dir.clone(),
            phase: Phase::Tolerant(Makedirs::new(dir.clone())),
        }
    }

    /// `mkdir(dir)`: EEXIST fails.
    pub fn strict(dir: &Arc<str>) -> CreateDir {
        CreateDir {
            dir: dir.clone(),
            phase: Phase::Strict,
        }
    }
}

impl Primitive for CreateDir {
    fn next(&mut self, _probe: &dyn Fn(&str) -> Option<Kind>) -> Next {
        match &self.phase {
            Phase::Tolerant(md) => match md.step() {
                MakedirsStep::Op(op) => Next::Op(op),
                MakedirsStep::Done => Next::Done,
                MakedirsStep::Failed(e, path) => Next::Fail(Failure::new("mkdir", e, &path)),
            },
            Phase::Strict => Next::Op(Op::Mkdir {
                path: self.dir.clone(),
                mode: 0o755,
            }),
            Phase::Done => Next::Done,
            Phase::Failed(f) => Next::Fail(f.clone()),
        }
    }

    fn complete(&mut self, result: &OpResult) {
        match &mut self.phase {
            Phase::Tolerant(md) => {
                if let Some(MakedirsStep::Failed(e, path)) = md.complete(result) {
                    self.phase = Phase::Failed(Failure::new("mkdir", e, &path));
                }
            }
            Phase::Strict => {
                self.phase = match result {
                    Ok(_) => Phase::Done,
                    Err(e) => Phase::Failed(Failure::new("mkdir", *e, &self.dir)),
                }
            }
            Phase::Done | Phase::Failed(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kit::test_support::{model_with, run_on};

    /// An existing directory: fine for makedirs, EEXIST for a strict mkdir.
    #[test]
    fn an_existing_directory_fails_only_the_strict_mkdir() {
        let mut fs = model_with(&["lib/x"]);
        let (_, end) = run_on(&mut fs, &mut CreateDir::tolerant(&"lib".into()));
        assert_eq!(end, Next::Done);
        let (_, end) = run_on(&mut fs, &mut CreateDir::strict(&"lib".into()));
        assert!(matches!(
            end,
            Next::Fail(Failure {
                errno: crate::op::Errno::EEXIST,
                ..
            })
        ));
        let (ops, end) = run_on(&mut fs, &mut CreateDir::tolerant(&"a/b".into()));
        assert_eq!(end, Next::Done);
        assert_eq!(ops, ["stat a", "stat ", "mkdir a", "mkdir a/b"]);
    }
}
