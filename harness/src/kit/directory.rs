//! Creating a directory: Python's tolerant `os.makedirs(exist_ok=True)`
//! (through [`super::Makedirs`]), a strict `mkdir` that fails on EEXIST,
//! or pypa/installer's `if not os.path.exists(d): Path(d).mkdir(parents=True,
//! exist_ok=True)`: `stat` first, then `mkdir`, and on ENOENT the parent
//! first (pathlib tries the directory before its parents, unlike
//! `os.makedirs`); EEXIST is fine if a `stat` finds a directory.

use std::sync::Arc;

use super::{Failure, Makedirs, MakedirsStep, Next, Primitive};
use crate::fs::parent_of;
use crate::op::{Errno, Kind, Op, OpResult, Value};

#[derive(Debug, Clone)]
enum Phase {
    Tolerant(Makedirs),
    Strict,
    /// pathlib: the `exists` check of the directory.
    PathlibCheck,
    /// pathlib: `mkdir` of the last of these, its parents before it.
    PathlibMkdir(Vec<Arc<str>>),
    /// pathlib: after EEXIST, `stat` of the last of these.
    PathlibIsDir(Vec<Arc<str>>),
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

    /// pypa/installer's `exists` check, then `Path.mkdir(parents=True,
    /// exist_ok=True)`.
    pub fn pathlib(dir: &Arc<str>) -> CreateDir {
        CreateDir {
            dir: dir.clone(),
            phase: Phase::PathlibCheck,
        }
    }

    /// Rust's `fs::create_dir_all`: `mkdir` first, the parent first on
    /// ENOENT, any other error fine if a `stat` finds a directory.
    pub fn create_dir_all(dir: &Arc<str>) -> CreateDir {
        CreateDir {
            dir: dir.clone(),
            phase: Phase::PathlibMkdir(vec![dir.clone()]),
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
            Phase::PathlibCheck => Next::Op(Op::Stat {
                path: self.dir.clone(),
            }),
            Phase::PathlibMkdir(stack) => Next::Op(Op::Mkdir {
                path: stack.last().expect("never empty").clone(),
                mode: 0o777,
            }),
            Phase::PathlibIsDir(stack) => Next::Op(Op::Stat {
                path: stack.last().expect("never empty").clone(),
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
            Phase::PathlibCheck => {
                self.phase = match result {
                    Ok(_) => Phase::Done,
                    Err(_) => Phase::PathlibMkdir(vec![self.dir.clone()]),
                }
            }
            Phase::PathlibMkdir(stack) => {
                let dir = stack.last().expect("never empty").clone();
                match result {
                    Ok(_) => {
                        stack.pop();
                    }
                    Err(Errno::ENOENT) if !parent_of(&dir).is_empty() => {
                        stack.push(parent_of(&dir).into());
                    }
                    Err(Errno::EEXIST) => {
                        self.phase = Phase::PathlibIsDir(std::mem::take(stack));
                        return;
                    }
                    Err(e) => {
                        self.phase = Phase::Failed(Failure::new("mkdir", *e, &dir));
                        return;
                    }
                }
                if stack.is_empty() {
                    self.phase = Phase::Done;
                }
            }
            Phase::PathlibIsDir(stack) => {
                let dir = stack.pop().expect("never empty");
                self.phase = match result {
                    Ok(Value::Meta(meta)) if meta.kind == Kind::Dir && stack.is_empty() => {
                        Phase::Done
                    }
                    Ok(Value::Meta(meta)) if meta.kind == Kind::Dir => {
                        Phase::PathlibMkdir(std::mem::take(stack))
                    }
                    _ => Phase::Failed(Failure::new("mkdir", Errno::EEXIST, &dir)),
                };
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

    /// pathlib: the directory first, then its parents on ENOENT, then the
    /// directory again; an existing one is one `stat`.
    #[test]
    fn pathlib_tries_the_directory_before_its_parents() {
        let mut fs = model_with(&["x"]);
        let (ops, end) = run_on(&mut fs, &mut CreateDir::pathlib(&"a/b".into()));
        assert_eq!(end, Next::Done);
        assert_eq!(ops, ["stat a/b", "mkdir a/b", "mkdir a", "mkdir a/b"]);
        let (ops, end) = run_on(&mut fs, &mut CreateDir::pathlib(&"a/b".into()));
        assert_eq!((ops, end), (vec!["stat a/b".to_string()], Next::Done));
    }
}
