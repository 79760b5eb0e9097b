//! One aim of the race-directed scheduler: a conflict to make happen.

use std::fmt;
use std::sync::Arc;

use crate::op::{Errno, Op};
use crate::schedule::JobId;

use super::op_id::OpId;

/// What a [`Target`] makes happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Aim {
    /// Run the racer's op before the held op: the reverse of the order the
    /// serial reference ran a conflicting pair in.
    Reverse,
    /// Run the racer's op inside the held job's window: after the held op
    /// and before the held job's next op on the same path (`write`→`chmod`,
    /// `lstat`→`mkdir`, `open`→`rename`).
    Window,
}

/// Where the held job stops while the racer runs.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Hold {
    /// Just before it runs this op.
    Before(OpId),
    /// Just after it ran this op.
    After(OpId),
}

impl Hold {
    /// The op the hold is placed at.
    pub fn op(&self) -> &OpId {
        match self {
            Hold::Before(id) | Hold::After(id) => id,
        }
    }
}

/// The way to the hold point: the schedule of the run the target was
/// found in, and how many of its steps lead there.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Lead {
    /// The run's choices.
    pub schedule: Arc<[JobId]>,
    /// The steps of it to follow.
    pub steps: usize,
    /// After them, run the held job first to the hold point before the
    /// racer goes (a window whose racer's op came before it in that run);
    /// else the hold point is reached and the racer goes at once.
    pub then_held_first: bool,
}

/// A conflict for one execution to exercise: follow the run it was found
/// in to the hold point, run another job until it has run one op, then
/// let the held job go on first.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Target {
    /// Reversal or window.
    pub aim: Aim,
    /// Where the held job waits.
    pub hold: Hold,
    /// The held job's op the racer's op lands before: the held op of a
    /// reversal, the op closing the window of a window.
    pub exposed: OpId,
    /// The other job's op that runs meanwhile.
    pub racer: OpId,
    /// How likely the target is to make a job fail, 0 first (see
    /// `directed::target::tier`).
    pub tier: u8,
    /// How to get to the hold point in the state the target was found in.
    pub lead: Lead,
}

impl Target {
    /// The job held back.
    pub fn held_job(&self) -> usize {
        self.hold.op().job
    }

    /// The job run meanwhile.
    pub fn racer_job(&self) -> usize {
        self.racer.job
    }

    /// The target in words, with job labels from `labels`.
    pub fn describe(&self, labels: &[String]) -> String {
        let label = |j: usize| labels.get(j).map_or("?", String::as_str);
        match self.aim {
            Aim::Reverse => format!(
                "reverse: {} {} before {} {}",
                label(self.racer_job()),
                self.racer.shape,
                label(self.held_job()),
                self.exposed.shape
            ),
            Aim::Window => format!(
                "window: {} {} between {} {} and {}",
                label(self.racer_job()),
                self.racer.shape,
                label(self.held_job()),
                self.hold.op().shape,
                self.exposed.shape
            ),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe(&[]))
    }
}

/// True when `p` is `root` or lies below it.
fn at_or_below(p: &str, root: &str) -> bool {
    p == root
        || root.is_empty()
        || (p.starts_with(root) && p.as_bytes().get(root.len()) == Some(&b'/'))
}

/// The entries `op` removes (or renames away).
fn removed_by(op: &Op) -> Vec<&str> {
    match op {
        Op::Unlink { path } | Op::Rmdir { path } => vec![path],
        Op::Rename { from, to } => vec![from, to],
        Op::RenameExchange { a, b } => vec![a, b],
        _ => Vec::new(),
    }
}

/// The entries `op` creates (or renames in).
fn created_by(op: &Op) -> Vec<&str> {
    match op {
        Op::Mkdir { path, .. } | Op::Symlink { path, .. } => vec![path],
        Op::Open { path, flags, .. } if flags.create => vec![path],
        Op::Rename { to, .. } | Op::Link { to, .. } => vec![to],
        Op::RenameExchange { a, b } => vec![a, b],
        _ => Vec::new(),
    }
}

/// True when `op` fails if its path is missing (ENOENT).
fn needs_existing(op: &Op) -> bool {
    match op {
        Op::Chmod { .. }
        | Op::Unlink { .. }
        | Op::Rmdir { .. }
        | Op::Rename { .. }
        | Op::Link { .. }
        | Op::RenameExchange { .. } => true,
        Op::Readdir { .. } => true,
        Op::Open { flags, .. } => !flags.create,
        _ => false,
    }
}

/// True when `op` fails if its path exists (EEXIST).
fn needs_absent(op: &Op) -> bool {
    match op {
        Op::Mkdir { .. } | Op::Symlink { .. } => true,
        Op::Open { flags, .. } => flags.create && flags.excl,
        _ => false,
    }
}

/// The error running `racer` first gives `victim`, as the kernel judges
/// it: ENOENT when the racer removes the victim's path (or a directory
/// above it) and the victim needs it, EEXIST when the racer creates the
/// victim's path and the victim needs it absent.
pub fn forced_error(racer: &Op, victim: &Op) -> Option<Errno> {
    let path = &**victim.path();
    if removed_by(racer).iter().any(|r| at_or_below(path, r)) && needs_existing(victim) {
        Some(Errno::ENOENT)
    } else if created_by(racer).contains(&path) && needs_absent(victim) {
        Some(Errno::EEXIST)
    } else {
        None
    }
}

/// True when running `racer` first makes `victim` fail (see `forced_error`).
pub fn makes_fail(racer: &Op, victim: &Op) -> bool {
    forced_error(racer, victim).is_some()
}

/// True for ops that act on a descriptor, not on a path.
pub fn descriptor_op(op: &Op) -> bool {
    matches!(
        op,
        Op::Write { .. } | Op::Read { .. } | Op::Close { .. } | Op::Flock { .. }
    )
}

/// The tier of a target whose `racer` op is to run before the `exposed`
/// one, the two as the reference run ran them; `tolerated(errno)` tells
/// whether the exposed op's job was seen to go on after that op failed
/// with that errno (pip's makedirs after EEXIST):
/// - 0: the exposed op fails when the racer's comes first, as the kernel
///   judges it (an entry removed under an op that needs it, or created
///   under one that needs it absent), with an error its job was not seen
///   to tolerate;
/// - 1: the exposed op can fail that way (a `mkdir`, an `O_EXCL` create, a
///   `chmod`, `rename` or `unlink` of an existing path) and the racer's op
///   resolves the same path: run earlier, the racer may do something else
///   there (an importer that finds no bytecode writes it);
/// - 2: a window whose racer destroys or creates the path, or a reversal
///   of two mutations of the same path (the last writer decides what the
///   prefix ends with);
/// - 3: any other conflict (through a parent directory, between
///   descriptor ops).
pub fn tier(aim: Aim, racer: &Op, exposed: &Op, tolerated: impl Fn(Errno) -> bool) -> u8 {
    let same_path = std::iter::once(racer.path())
        .chain(racer.path2())
        .any(|p| p == exposed.path() || Some(p) == exposed.path2());
    if forced_error(racer, exposed).is_some_and(|e| !tolerated(e)) {
        0
    } else if same_path
        && !descriptor_op(racer)
        && (needs_absent(exposed) || needs_existing(exposed))
    {
        1
    } else if (aim == Aim::Window && destructive(racer))
        || (aim == Aim::Reverse && same_path && racer.is_mutation() && exposed.is_mutation())
    {
        2
    } else {
        3
    }
}

/// True when `op` destroys or creates the entry at a path: an `unlink`,
/// `rmdir`, `rename`, truncating or creating `open`, `mkdir` or `symlink`.
pub fn destructive(op: &Op) -> bool {
    match op {
        Op::Open { flags, .. } => flags.trunc || flags.create,
        _ => !removed_by(op).is_empty() || !created_by(op).is_empty(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::op::OpenFlags;

    #[test]
    fn removal_under_an_op_that_needs_the_path_makes_it_fail() {
        let unlink = Op::Unlink { path: "a/f".into() };
        let chmod = Op::Chmod {
            path: "a/f".into(),
            mode: 0o755,
        };
        assert!(makes_fail(&unlink, &chmod));
        assert!(!makes_fail(&chmod, &unlink));
        let rename_dir = Op::Rename {
            from: "a".into(),
            to: "b".into(),
        };
        assert!(makes_fail(&rename_dir, &chmod));
    }

    #[test]
    fn creation_under_an_op_that_needs_absence_makes_it_fail() {
        let mkdir = Op::Mkdir {
            path: "c/__pycache__".into(),
            mode: 0o777,
        };
        assert!(makes_fail(&mkdir, &mkdir));
        let excl = Op::Open {
            path: "c/__pycache__".into(),
            flags: OpenFlags::CREATE_NEW,
            mode: 0o600,
        };
        assert!(makes_fail(&mkdir, &excl));
        let trunc = Op::Open {
            path: "c/__pycache__".into(),
            flags: OpenFlags::CREATE_TRUNC,
            mode: 0o600,
        };
        assert!(!makes_fail(&mkdir, &trunc));
        assert!(destructive(&trunc) && destructive(&mkdir));
        assert!(!destructive(&Op::Lstat { path: "x".into() }));
    }
}
