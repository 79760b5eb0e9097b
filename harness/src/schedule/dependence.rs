//! The dependence relation over filesystem ops, used by partial-order
//! reduction: two ops of different jobs are *dependent* when running them in
//! the other order could change a result or the final tree.
//!
//! Ops `a` and `b` are dependent when at least one of them mutates (see
//! [`mutates`]: an op that failed, a read-only `open` and a `close` change
//! nothing and count as lookups of their paths) and
//! - they name the same path (either path of a rename counts), or
//! - one creates, removes or renames an entry (`mkdir`, `rmdir`, `unlink`,
//!   `symlink`, `rename`, `open` with `O_CREAT`) that is a strict ancestor of
//!   a path the other names (path lookup goes through it), or
//! - one creates, removes or renames an entry of a directory the other lists.
//!
//! Assumptions, documented in `docs/exploration.md`: paths do not alias
//! through symlinks created during the execution, and `chmod` of a directory
//! never removes search permission from its owner (so it only conflicts with
//! ops on the same path). Descriptor numbers are not compared: reordering two
//! `open`s may swap the numbers they return, which changes neither what the
//! jobs do nor the tree.

use crate::op::{Op, OpResult};

/// True when `op` can change the namespace or file contents. With its
/// `result` (once it ran): an op that failed changed nothing (POSIX calls
/// fail atomically), so it is only a lookup of its paths. A read-only `open`
/// and a `close` never change the tree (descriptor numbers are not compared).
pub fn mutates(op: &Op, result: Option<&OpResult>) -> bool {
    if matches!(result, Some(Err(_))) {
        return false;
    }
    match op {
        Op::Close { .. } => false,
        Op::Open { flags, .. } => flags.write || flags.create || flags.trunc,
        _ => op.is_mutation(),
    }
}

/// The entries an op creates, removes or renames (its namespace changes),
/// at most two (a rename's), without allocating.
pub(crate) fn namespace_changes(op: &Op) -> [Option<&str>; 2] {
    match op {
        Op::Mkdir { path, .. }
        | Op::Rmdir { path }
        | Op::Unlink { path }
        | Op::Symlink { path, .. } => [Some(path), None],
        Op::Open { path, flags, .. } if flags.create => [Some(path), None],
        Op::Rename { from, to } => [Some(from), Some(to)],
        Op::RenameExchange { a, b } => [Some(a), Some(b)],
        Op::Link { to, .. } => [Some(to), None],
        _ => [None, None],
    }
}

/// Every path an op names: its path, and a rename's second one.
pub(crate) fn named_paths(op: &Op) -> [Option<&str>; 2] {
    [Some(op.path()), op.path2().map(|p| &**p)]
}

/// True when `ancestor` is a strict ancestor of `path` (`""` is the root).
fn is_strict_ancestor(ancestor: &str, path: &str) -> bool {
    if ancestor.is_empty() {
        return !path.is_empty();
    }
    path.len() > ancestor.len()
        && path.starts_with(ancestor)
        && path.as_bytes()[ancestor.len()] == b'/'
}

/// The directory holding `path` (`""` for a top-level entry).
pub(crate) fn parent(path: &str) -> &str {
    path.rfind('/').map_or("", |i| &path[..i])
}

/// True when `changer`'s namespace changes can affect `other`.
fn changes_affect(changer: &Op, changer_mutates: bool, other: &Op) -> bool {
    if !changer_mutates {
        return false;
    }
    let listed = match other {
        Op::Readdir { path } => Some(&**path),
        _ => None,
    };
    let named = named_paths(other);
    namespace_changes(changer).into_iter().flatten().any(|c| {
        named
            .into_iter()
            .flatten()
            .any(|p| is_strict_ancestor(c, p))
            || listed.is_some_and(|dir| parent(c) == dir)
    })
}

/// True when `a` and `b` may not commute, neither having run yet.
pub fn dependent(a: &Op, b: &Op) -> bool {
    dependent_as(a, mutates(a, None), b, mutates(b, None))
}

/// True when `a` and `b` may not commute, given whether each mutates (see
/// [`mutates`]; an op that has run is judged with its result).
pub fn dependent_as(a: &Op, a_mutates: bool, b: &Op, b_mutates: bool) -> bool {
    if !a_mutates && !b_mutates {
        return false;
    }
    let pa = named_paths(a);
    if named_paths(b)
        .into_iter()
        .flatten()
        .any(|p| pa.contains(&Some(p)))
    {
        return true;
    }
    changes_affect(a, a_mutates, b) || changes_affect(b, b_mutates, a)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::op::OpenFlags;

    fn mkdir(p: &str) -> Op {
        Op::Mkdir {
            path: p.into(),
            mode: 0o755,
        }
    }
    fn stat(p: &str) -> Op {
        Op::Stat { path: p.into() }
    }

    #[test]
    fn same_path_with_a_mutation_conflicts() {
        assert!(dependent(&mkdir("a/b"), &stat("a/b")));
        assert!(dependent(&stat("a/b"), &mkdir("a/b")));
        assert!(!dependent(&stat("a/b"), &stat("a/b")));
        assert!(!dependent(&mkdir("a/b"), &mkdir("a/c")));
    }

    #[test]
    fn creating_an_ancestor_conflicts_with_lookups_below_it() {
        let open = Op::Open {
            path: "a/b/c.pyc".into(),
            flags: OpenFlags::READ,
            mode: 0,
        };
        assert!(dependent(&mkdir("a/b"), &open));
        assert!(!dependent(&mkdir("a/bc"), &open));
        let chmod = Op::Chmod {
            path: "a/b".into(),
            mode: 0o755,
        };
        assert!(!dependent(&chmod, &open));
    }

    #[test]
    fn failed_ops_and_read_only_opens_are_lookups() {
        let eexist: OpResult = Err(crate::op::Errno::EEXIST);
        let open = Op::Open {
            path: "a/b".into(),
            flags: OpenFlags::READ,
            mode: 0,
        };
        assert!(!mutates(&mkdir("a"), Some(&eexist)));
        assert!(mutates(&mkdir("a"), None));
        assert!(!mutates(&open, None));
        assert!(!dependent_as(&mkdir("a"), false, &open, false));
        assert!(dependent_as(&mkdir("a"), true, &open, false));
        assert!(!dependent(&open, &open));
    }

    #[test]
    fn entries_conflict_with_listings_of_their_directory() {
        let list = Op::Readdir { path: "a".into() };
        assert!(dependent(&mkdir("a/x"), &list));
        assert!(!dependent(&mkdir("a/x/y"), &list));
        let rename = Op::Rename {
            from: "t/x".into(),
            to: "a/y".into(),
        };
        assert!(dependent(&rename, &list));
    }

    /// A link creates its new name (so it conflicts with what is looked
    /// up below it and with a listing of its directory), an exchange
    /// changes both names, and an `flock` conflicts with the close that
    /// releases a lock on the same path.
    #[test]
    fn links_exchanges_and_flocks_conflict_where_they_change_something() {
        let link = Op::Link {
            from: "cache/a".into(),
            to: "lib/a".into(),
        };
        assert!(dependent(&link, &stat("lib/a/x")));
        assert!(dependent(&link, &Op::Readdir { path: "lib".into() }));
        assert!(dependent(&link, &stat("cache/a")));
        assert!(!dependent(&link, &stat("lib/b")));
        let exchange = Op::RenameExchange {
            a: "new".into(),
            b: "pkg".into(),
        };
        assert!(dependent(&exchange, &stat("pkg/x")));
        assert!(dependent(&exchange, &stat("new/x")));
        let flock = Op::Flock {
            fd: 3,
            path: ".lock".into(),
            call: crate::op::LockCall::Flock,
        };
        let close = Op::Close {
            fd: 4,
            path: ".lock".into(),
        };
        assert!(dependent(&flock, &close));
        assert!(!dependent(&flock, &stat("lib")));
    }
}
