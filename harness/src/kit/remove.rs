//! Removing a tree the way `rm -rf`, `shutil.rmtree` and `rimraf` do:
//! depth first, `lstat` each entry, list directories, unlink files, then
//! `rmdir` each directory once its entries are gone. Node's `fs.rm`
//! ([`RemoveStyle::NodeRm`]) tries `rmdir` on a directory first and lists
//! it only when that fails with ENOTEMPTY.

use std::sync::Arc;

use super::{Failure, Next, Primitive, RemoveStyle, RIMRAF_RETRIES};
use crate::op::{Errno, Kind, Meta, Op, OpResult, Value};

/// Work still to do, innermost last.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Frame {
    /// `lstat` the entry and remove it, whatever it is.
    Visit(Arc<str>),
    /// `rmdir` a directory whose entries have been removed.
    Rmdir(Arc<str>),
}

/// The op in flight.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Pending {
    Lstat(Arc<str>),
    Readdir(Arc<str>),
    Unlink(Arc<str>),
    Rmdir(Arc<str>),
    /// Node's first `rmdir` of a directory, before listing it.
    RmdirFirst(Arc<str>),
}

/// A tree removal in progress.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RemoveTree {
    style: RemoveStyle,
    frames: Vec<Frame>,
    pending: Option<Pending>,
    retries: u8,
    failed: Option<Failure>,
}

impl RemoveTree {
    /// Starts removing `path` and everything under it.
    pub fn new(path: &Arc<str>, style: RemoveStyle) -> RemoveTree {
        RemoveTree {
            style,
            frames: vec![Frame::Visit(path.clone())],
            pending: None,
            retries: 0,
            failed: None,
        }
    }

    /// Whether a missing entry is fine: `rm -f` and `rimraf` say yes,
    /// `shutil.rmtree` raises.
    fn tolerates_missing(&self) -> bool {
        !matches!(self.style, RemoveStyle::Rmtree)
    }

    fn fail(&mut self, syscall: &'static str, errno: Errno, path: &Arc<str>) {
        if errno == Errno::ENOENT && self.tolerates_missing() {
            return;
        }
        self.failed = Some(Failure::new(syscall, errno, path));
    }
}

impl Primitive for RemoveTree {
    fn next(&mut self, _probe: &dyn Fn(&str) -> Option<Kind>) -> Next {
        if let Some(f) = &self.failed {
            return Next::Fail(f.clone());
        }
        if self.pending.is_none() {
            self.pending = match self.frames.pop() {
                Some(Frame::Visit(p)) => Some(Pending::Lstat(p)),
                Some(Frame::Rmdir(p)) => Some(Pending::Rmdir(p)),
                None => return Next::Done,
            };
        }
        Next::Op(match self.pending.clone().expect("set above") {
            Pending::Lstat(path) => Op::Lstat { path },
            Pending::Readdir(path) => Op::Readdir { path },
            Pending::Unlink(path) => Op::Unlink { path },
            Pending::Rmdir(path) | Pending::RmdirFirst(path) => Op::Rmdir { path },
        })
    }

    fn complete(&mut self, result: &OpResult) {
        let Some(pending) = self.pending.take() else {
            return;
        };
        match (pending, result) {
            (
                Pending::Lstat(p),
                Ok(Value::Meta(Meta {
                    kind: Kind::Dir, ..
                })),
            ) => {
                self.pending = Some(match self.style {
                    RemoveStyle::NodeRm => Pending::RmdirFirst(p),
                    _ => Pending::Readdir(p),
                });
            }
            (Pending::Lstat(p), Ok(_)) => self.pending = Some(Pending::Unlink(p)),
            (Pending::Lstat(p), Err(e)) => self.fail("lstat", *e, &p),
            (Pending::Readdir(p), Ok(Value::Names(names))) => {
                self.frames.push(Frame::Rmdir(p.clone()));
                for name in names.iter().rev() {
                    self.frames.push(Frame::Visit(format!("{p}/{name}").into()));
                }
            }
            (Pending::Readdir(p), Ok(_)) => self.frames.push(Frame::Rmdir(p)),
            (Pending::Readdir(p), Err(e)) => self.fail("readdir", *e, &p),
            (Pending::Unlink(p), Err(e)) => self.fail("unlink", *e, &p),
            (Pending::Rmdir(p), Err(Errno::ENOTEMPTY))
                if self.style == RemoveStyle::Rimraf && self.retries < RIMRAF_RETRIES =>
            {
                self.retries += 1;
                self.frames.push(Frame::Visit(p));
            }
            (Pending::Rmdir(p), Err(e)) => self.fail("rmdir", *e, &p),
            (Pending::RmdirFirst(_), Ok(_)) => {}
            (Pending::RmdirFirst(p), Err(Errno::ENOTEMPTY | Errno::EEXIST | Errno::EPERM)) => {
                self.pending = Some(Pending::Readdir(p));
            }
            (Pending::RmdirFirst(p), Err(Errno::ENOTDIR)) => {
                self.pending = Some(Pending::Unlink(p));
            }
            (Pending::RmdirFirst(p), Err(e)) => self.fail("rmdir", *e, &p),
            (Pending::Unlink(_), Ok(_)) | (Pending::Rmdir(_), Ok(_)) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kit::test_support::{model_with, run_on};

    /// `rm -rf` of a tree: lstat, list, unlink the file, rmdir inner then
    /// outer; the tree is gone.
    #[test]
    fn removes_depth_first_and_leaves_nothing() {
        let mut fs = model_with(&["d/a", "d/e/f"]);
        let mut rm = RemoveTree::new(&"d".into(), RemoveStyle::RmRf);
        let (ops, end) = run_on(&mut fs, &mut rm);
        assert_eq!(end, Next::Done);
        assert_eq!(
            ops,
            [
                "lstat d",
                "getdents d",
                "lstat d/a",
                "unlink d/a",
                "lstat d/e",
                "getdents d/e",
                "lstat d/e/f",
                "unlink d/e/f",
                "rmdir d/e",
                "rmdir d",
            ]
        );
        assert!(fs.inode_of("d").is_none());
    }

    /// Node's `fs.rm` as npm 11.19 calls it on a retired package (recorded:
    /// docs/fidelity.md): `rmdir` before listing, at every level.
    #[test]
    fn node_rm_tries_rmdir_before_listing() {
        let mut fs = model_with(&["d/a", "d/e/f"]);
        let mut rm = RemoveTree::new(&"d".into(), RemoveStyle::NodeRm);
        let (ops, end) = run_on(&mut fs, &mut rm);
        assert_eq!(end, Next::Done);
        assert_eq!(
            ops,
            [
                "lstat d",
                "rmdir d",
                "getdents d",
                "lstat d/a",
                "unlink d/a",
                "lstat d/e",
                "rmdir d/e",
                "getdents d/e",
                "lstat d/e/f",
                "unlink d/e/f",
                "rmdir d/e",
                "rmdir d",
            ]
        );
        assert!(fs.inode_of("d").is_none());
        let mut empty = model_with(&["d/e/f"]);
        let _ = crate::fs::Fs::apply(
            &mut empty,
            &Op::Unlink {
                path: "d/e/f".into(),
            },
        );
        let mut rm = RemoveTree::new(&"d/e".into(), RemoveStyle::NodeRm);
        let (ops, _) = run_on(&mut empty, &mut rm);
        assert_eq!(
            ops,
            ["lstat d/e", "rmdir d/e"],
            "an empty directory is never listed"
        );
    }

    /// A missing tree: fine for `rm -rf` and `rimraf`, a
    /// `FileNotFoundError` for `shutil.rmtree`.
    #[test]
    fn a_missing_tree_fails_only_shutil_rmtree() {
        for (style, fails) in [
            (RemoveStyle::RmRf, false),
            (RemoveStyle::Rimraf, false),
            (RemoveStyle::NodeRm, false),
            (RemoveStyle::Rmtree, true),
        ] {
            let mut fs = model_with(&[]);
            let mut rm = RemoveTree::new(&"gone".into(), style);
            let (_, end) = run_on(&mut fs, &mut rm);
            assert_eq!(matches!(end, Next::Fail(_)), fails, "{style:?}");
        }
    }

    /// A directory that filled up again between the listing and the
    /// `rmdir`: `rm -rf` fails with ENOTEMPTY, `rimraf` empties it again.
    #[test]
    fn a_refilled_directory_fails_rm_but_not_rimraf() {
        for (style, fails) in [
            (RemoveStyle::RmRf, true),
            (RemoveStyle::Rimraf, false),
            (RemoveStyle::NodeRm, true),
        ] {
            let mut fs = model_with(&["d/a"]);
            let mut rm = RemoveTree::new(&"d".into(), style);
            let (mut unlinked, mut refilled) = (false, false);
            let end = loop {
                match rm.next(&|_| None) {
                    Next::Op(op) => {
                        // After the listing's entries are gone, before the
                        // `rmdir` that expects an empty directory.
                        unlinked |= matches!(op, Op::Unlink { .. });
                        if matches!(op, Op::Rmdir { .. }) && unlinked && !refilled {
                            refilled = true;
                            crate::kit::test_support::create_file(&mut fs, "d/late");
                        }
                        let result = crate::fs::Fs::apply(&mut fs, &op);
                        rm.complete(&result);
                    }
                    other => break other,
                }
            };
            assert_eq!(matches!(end, Next::Fail(_)), fails, "{style:?}");
            assert_eq!(fs.inode_of("d").is_none(), !fails, "{style:?}");
        }
    }
}
