//! A file hard-linked into place from a content store, as uv links a
//! wheel's files from its cache (`--link-mode hardlink`, and its Linux
//! default where reflinks are not supported).
//!
//! uv 0.13.9 (`crates/uv-install-wheel/src/linker.rs`, recorded under
//! strace on this machine, see `tests/pins_uv.rs`): `linkat(store,
//! target)`. When the target exists (`EEXIST`: a reinstall, or another
//! process got there first) uv does not remove it (that would race) but
//! links into a fresh temporary directory beside it and renames the link
//! over the target, then removes the directory with everything in it (its
//! `TempDir` dropped: `remove_dir_all`, errors ignored). When the target
//! already is a link to the same store file, that rename does nothing
//! (POSIX: both names of one inode) and the temporary link stays until
//! the directory goes. Any other error fails
//! the install. (uv's fallback to copying the whole wheel when the first
//! link fails across filesystems is not modelled: the store and the
//! prefix share the model's one filesystem.)
//!
//! The target and the store share one inode: an in-place write through
//! either changes both, which is why uv writes RECORD by copy, never by
//! link.

use std::sync::Arc;

use super::{Failure, Next, Primitive, RemoveStyle, RemoveTree};
use crate::fs::parent_of;
use crate::op::{Errno, Kind, Op, OpResult};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Phase {
    Link,
    /// The target existed: make the temporary directory.
    MakeTemp,
    /// Link into the temporary directory.
    LinkTemp,
    /// Rename the temporary link over the target.
    Replace,
    /// Remove the temporary directory and what is left in it.
    RemoveTemp(RemoveTree),
    Done,
    Failed(Failure),
}

/// A hard link from a store into place, in progress.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LinkFromStore {
    store: Arc<str>,
    target: Arc<str>,
    /// The temporary directory of the `EEXIST` fallback.
    tmp_dir: Arc<str>,
    phase: Phase,
}

impl LinkFromStore {
    /// Starts linking `store` to `target`; on `EEXIST` through a
    /// temporary directory named `tmp_dir`.
    pub fn new(store: &Arc<str>, target: &Arc<str>, tmp_dir: &Arc<str>) -> LinkFromStore {
        LinkFromStore {
            store: store.clone(),
            target: target.clone(),
            tmp_dir: tmp_dir.clone(),
            phase: Phase::Link,
        }
    }

    /// The temporary link's path: the target's name in the temporary directory.
    fn tmp_link(&self) -> Arc<str> {
        let name = match self.target.rfind('/') {
            Some(i) => &self.target[i + 1..],
            None => &self.target,
        };
        format!("{}/{name}", self.tmp_dir).into()
    }
}

impl Primitive for LinkFromStore {
    fn next(&mut self, probe: &dyn Fn(&str) -> Option<Kind>) -> Next {
        if let Phase::RemoveTemp(rm) = &mut self.phase {
            match rm.next(probe) {
                Next::Op(op) => return Next::Op(op),
                Next::Wait(condition) => return Next::Wait(condition),
                // `TempDir`'s drop ignores what it could not remove.
                _ => self.phase = Phase::Done,
            }
        }
        match &self.phase {
            Phase::Link => Next::Op(Op::Link {
                from: self.store.clone(),
                to: self.target.clone(),
            }),
            Phase::MakeTemp => Next::Op(Op::Mkdir {
                path: self.tmp_dir.clone(),
                mode: 0o700,
            }),
            Phase::LinkTemp => Next::Op(Op::Link {
                from: self.store.clone(),
                to: self.tmp_link(),
            }),
            Phase::Replace => Next::Op(Op::Rename {
                from: self.tmp_link(),
                to: self.target.clone(),
            }),
            Phase::RemoveTemp(_) => unreachable!("handled above"),
            Phase::Done => Next::Done,
            Phase::Failed(f) => Next::Fail(f.clone()),
        }
    }

    fn complete(&mut self, result: &OpResult) {
        if let Phase::RemoveTemp(rm) = &mut self.phase {
            return rm.complete(result);
        }
        self.phase = match (&self.phase, result) {
            (Phase::Link, Ok(_)) => Phase::Done,
            (Phase::Link, Err(Errno::EEXIST)) => Phase::MakeTemp,
            (Phase::Link | Phase::LinkTemp, Err(e)) => {
                Phase::Failed(Failure::between("link", *e, &self.store, &self.target))
            }
            (Phase::MakeTemp, Ok(_)) => Phase::LinkTemp,
            (Phase::MakeTemp, Err(e)) => {
                let dir = parent_of(&self.tmp_dir).into();
                Phase::Failed(Failure::new("mkdir", *e, &dir))
            }
            (Phase::LinkTemp, Ok(_)) => Phase::Replace,
            (Phase::Replace, Ok(_)) => {
                Phase::RemoveTemp(RemoveTree::new(&self.tmp_dir, RemoveStyle::RmRf))
            }
            (Phase::Replace, Err(e)) => Phase::Failed(Failure::between(
                "rename",
                *e,
                &self.tmp_link(),
                &self.target,
            )),
            (phase, result) => unreachable!("{phase:?} handed {result:?}"),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::Fs;
    use crate::kit::test_support::{model_with, run_on};

    /// A link shares the store's inode; an existing target is replaced
    /// through a temporary directory, not removed first.
    #[test]
    fn links_from_the_store_and_replaces_an_existing_target_through_a_temp_dir() {
        let mut fs = model_with(&["store/a.py", "site/x/a.py"]);
        let (store, tmp): (Arc<str>, Arc<str>) = ("store/a.py".into(), "site/.tmp-j".into());
        let mut fresh = LinkFromStore::new(&store, &"site/b.py".into(), &tmp);
        assert_eq!(
            run_on(&mut fs, &mut fresh),
            (vec!["link store/a.py".to_string()], Next::Done)
        );
        assert_eq!(fs.inode_of("site/b.py"), fs.inode_of("store/a.py"));
        let mut over = LinkFromStore::new(&store, &"site/x/a.py".into(), &tmp);
        let (ops, next) = run_on(&mut fs, &mut over);
        assert_eq!(next, Next::Done);
        assert_eq!(
            ops,
            [
                "link store/a.py",
                "mkdir site/.tmp-j",
                "link store/a.py",
                "rename site/.tmp-j/a.py",
                "lstat site/.tmp-j",
                "getdents site/.tmp-j",
                "rmdir site/.tmp-j"
            ]
        );
        assert_eq!(fs.inode_of("site/x/a.py"), fs.inode_of("store/a.py"));
        assert_eq!(fs.probe("site/.tmp-j"), None);
        // Over a link to the same store file (another uv got there first):
        // the rename does nothing, and the link left in the temporary
        // directory goes with it.
        let mut again = LinkFromStore::new(&store, &"site/x/a.py".into(), &tmp);
        let (ops, next) = run_on(&mut fs, &mut again);
        assert_eq!(next, Next::Done);
        assert_eq!(
            &ops[3..],
            [
                "rename site/.tmp-j/a.py",
                "lstat site/.tmp-j",
                "getdents site/.tmp-j",
                "lstat site/.tmp-j/a.py",
                "unlink site/.tmp-j/a.py",
                "rmdir site/.tmp-j"
            ]
        );
        assert_eq!(fs.probe("site/.tmp-j"), None);
        let mut missing = LinkFromStore::new(&"store/gone".into(), &"site/c".into(), &tmp);
        assert!(
            matches!(run_on(&mut fs, &mut missing).1, Next::Fail(f) if f.errno == Errno::ENOENT)
        );
    }
}
