//! POSIX record locks (`fcntl(F_SETLK)`, Python's `fcntl.lockf`) in the
//! model: whole-file write locks that belong to a *process*, not to an
//! open file.
//!
//! Two properties set them apart from `flock`, and both are kept here
//! (and pinned against the kernel by `tests/differential.rs`):
//!
//! - the same process takes the lock again through another descriptor
//!   (it already holds it: a no-op), where a second `flock` open file
//!   would be refused;
//! - closing *any* descriptor the process has on the file releases the
//!   process's lock, whichever descriptor took it.
//!
//! The model's processes are its jobs, and the filesystem does not know
//! which job runs an op: the lock op carries its owner
//! ([`crate::op::LockCall::Fcntl`]). A descriptor becomes known as its
//! owner's when it is handed to `fcntl` (taking the lock or refused it);
//! closing a known descriptor releases its owner's lock on that inode. A
//! descriptor its process never handed to `fcntl` is not known as
//! anyone's, so in the model its close releases nothing (the kernel would
//! release the lock): every descriptor the kit opens on a lock file goes
//! through `fcntl`, and the pitfall is modelled by opening the lock file
//! again through a second lock step, then closing that descriptor.

use std::sync::Arc;

use super::model::Ino;
use crate::op::{Errno, Fd};
use crate::state_key::StateKey;

/// The record locks held and the descriptors known to belong to a
/// process. Few at a time: plain vectors, in inode and descriptor order.
#[derive(Clone, Debug, Default)]
pub struct RecordLocks {
    /// The inode locked and its owner.
    held: Vec<(Ino, Arc<str>)>,
    /// The descriptors handed to `fcntl`, with their process.
    owners: Vec<(Fd, Arc<str>)>,
}

/// The state-key part of a record lock on the inode named `ident`.
pub fn held_key(ident: StateKey, owner: &str) -> StateKey {
    StateKey::of(&(4u8, ident, owner))
}

/// The state-key part of a descriptor known to belong to `owner`.
pub fn owner_key(fd: Fd, owner: &str) -> StateKey {
    StateKey::of(&(5u8, fd, owner))
}

impl RecordLocks {
    /// `fcntl(fd, F_SETLK, F_WRLCK)` by `owner` on inode `ino` (named
    /// `ident`): EAGAIN while another process holds it; a no-op when
    /// `owner` holds it already. Returns the change to the state key.
    pub fn take(
        &mut self,
        ino: Ino,
        ident: StateKey,
        fd: Fd,
        owner: &Arc<str>,
    ) -> Result<StateKey, Errno> {
        let mut delta = StateKey::default();
        if let Err(at) = self.owners.binary_search_by_key(&fd, |(f, _)| *f) {
            self.owners.insert(at, (fd, owner.clone()));
            delta ^= owner_key(fd, owner);
        }
        match self.held.iter().find(|(locked, _)| *locked == ino) {
            Some((_, holder)) if holder == owner => Ok(delta),
            // The descriptor is known as `owner`'s even though refused.
            Some(_) => Err(Errno::EAGAIN),
            None => {
                let at = self.held.partition_point(|(locked, _)| *locked < ino);
                self.held.insert(at, (ino, owner.clone()));
                Ok(delta ^ held_key(ident, owner))
            }
        }
    }

    /// `fd`, open on inode `ino` (named `ident`), is closed: when it is
    /// known as some process's, that process's lock on the inode goes.
    /// Returns the change to the state key.
    pub fn closed(&mut self, fd: Fd, ino: Ino, ident: StateKey) -> StateKey {
        let Ok(at) = self.owners.binary_search_by_key(&fd, |(f, _)| *f) else {
            return StateKey::default();
        };
        let (_, owner) = self.owners.remove(at);
        let mut delta = owner_key(fd, &owner);
        if let Some(i) = self
            .held
            .iter()
            .position(|(locked, holder)| *locked == ino && *holder == owner)
        {
            self.held.remove(i);
            delta ^= held_key(ident, &owner);
        }
        delta
    }

    /// True when a process other than `asker` holds a lock on `ino`.
    pub fn held_by_other(&self, ino: Ino, asker: &str) -> bool {
        self.held
            .iter()
            .any(|(locked, holder)| *locked == ino && &**holder != asker)
    }

    /// The state key of every lock and known descriptor, given how to
    /// name an inode.
    pub fn key(&self, ident: impl Fn(Ino) -> StateKey) -> StateKey {
        let mut key = StateKey::default();
        for (ino, owner) in &self.held {
            key ^= held_key(ident(*ino), owner);
        }
        for (fd, owner) in &self.owners {
            key ^= owner_key(*fd, owner);
        }
        key
    }

    /// True when no lock is held and no descriptor is known.
    pub fn is_empty(&self) -> bool {
        self.held.is_empty() && self.owners.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lock is the process's: its second descriptor takes it again,
    /// another process is refused, and the close of the second descriptor
    /// (not the one that took it) releases it.
    #[test]
    fn the_lock_belongs_to_the_process_and_any_close_releases_it() {
        let mut locks = RecordLocks::default();
        let (a, b): (Arc<str>, Arc<str>) = ("a".into(), "b".into());
        let ident = StateKey::of("lock");
        assert!(locks.take(7, ident, 3, &a).is_ok());
        assert!(locks.take(7, ident, 4, &a).is_ok(), "its own, again");
        assert_eq!(locks.take(7, ident, 5, &b), Err(Errno::EAGAIN));
        assert!(locks.held_by_other(7, "b") && !locks.held_by_other(7, "a"));
        locks.closed(5, 7, ident);
        assert!(
            locks.held_by_other(7, "b"),
            "b's close releases nothing of a's"
        );
        locks.closed(4, 7, ident);
        assert!(
            !locks.held_by_other(7, "b"),
            "a's other descriptor released it"
        );
        locks.closed(3, 7, ident);
        assert!(locks.is_empty());
    }
}
