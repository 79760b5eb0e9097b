//! The dependence relation of the gate's DPOR (`gate_dpor.rs`): when two
//! released calls of different jobs might not commute.
//!
//! It is the model's relation (`schedule/dependence.rs`) read off the
//! strace-style text of a real call, plus one clause for what a real `stat`
//! of a directory sees. Two calls are *dependent* when at least one of them
//! [mutates](Footprint::mutates) and
//! - they name the same prefix-relative path (either path of a rename or a
//!   link counts), or
//! - one creates, removes or renames an entry (`mkdir`, `rmdir`, `unlink`,
//!   `rename`, `symlink`, `link`, an `O_CREAT` open) that is a strict
//!   ancestor of a path the other names (path lookup goes through it), or
//! - one creates, removes or renames an entry of a directory the other names
//!   (a listing through `getdents64`, and also a `stat` of the directory,
//!   whose mtime and link count the change moves: CPython's import cache
//!   decides on that mtime).
//!
//! A call that failed (`= -1 E…`) changed nothing (POSIX calls fail
//! atomically): it counts as a lookup of its paths. A call whose result is
//! not known (judged before it ran, or its process died in it) counts as
//! having succeeded, which only adds dependences.
//!
//! What a process does between two gated calls (a `write` through a
//! descriptor, a `read`) belongs to the earlier call's step, and is judged
//! by that call's paths: a file's content is written through the descriptor
//! its creating `open` returned, so the content goes with the `open`'s path.

use super::call::{Call, Outcome};

/// What a released call touches, as the relation needs it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Footprint {
    /// Every prefix-relative path it names (`.` is the prefix).
    pub named: Vec<String>,
    /// The entries it creates, removes or renames.
    pub changes: Vec<String>,
    /// True when it can change the namespace, a file or its metadata.
    pub mutates: bool,
}

/// True for a call that can change what is at its path, when it succeeds.
fn mutating(call: &Call) -> bool {
    match call.name {
        "open" | "openat" => call.args.iter().any(|a| {
            a.starts_with("O_")
                && (a.contains("O_WRONLY")
                    || a.contains("O_RDWR")
                    || a.contains("O_CREAT")
                    || a.contains("O_TRUNC")
                    || a.contains("O_TMPFILE"))
        }),
        // openat2's flags are in a struct the gate does not decode.
        "openat2" | "creat" => true,
        "mkdir" | "mkdirat" | "rmdir" | "unlink" | "unlinkat" | "rename" | "renameat"
        | "renameat2" | "link" | "linkat" | "symlink" | "symlinkat" | "truncate" | "chmod"
        | "fchmod" | "fchmodat" | "fchmodat2" | "chown" | "fchown" | "lchown" | "fchownat"
        | "utimensat" | "setxattr" | "lsetxattr" | "fsetxattr" => true,
        _ => false,
    }
}

/// The entries a call creates, removes or renames, when it succeeds.
fn namespace_changes(call: &Call, named: &[String]) -> Vec<String> {
    let creates = match call.name {
        "open" | "openat" => call
            .args
            .iter()
            .any(|a| a.starts_with("O_") && a.contains("O_CREAT")),
        "openat2" | "creat" => true,
        _ => false,
    };
    match call.name {
        "mkdir" | "mkdirat" | "rmdir" | "unlink" | "unlinkat" => named.first().cloned(),
        "rename" | "renameat" | "renameat2" => return named.to_vec(),
        // The new name: the last path (symlink's target is not resolved).
        "symlink" | "symlinkat" | "link" | "linkat" => named.last().cloned(),
        _ if creates => named.first().cloned(),
        _ => None,
    }
    .into_iter()
    .collect()
}

/// The footprint of `call`, with its result when known.
pub fn footprint(call: &Call, outcome: Option<Outcome>) -> Footprint {
    let named: Vec<String> = match call.name {
        // A symlink's first argument is its target text, not a path it acts on.
        "symlink" | "symlinkat" => call.relative_paths().last().map(|p| vec![p.to_string()]),
        // The attribute's name is a quoted literal too, not a path.
        "setxattr" | "lsetxattr" | "fsetxattr" => {
            call.relative_paths().first().map(|p| vec![p.to_string()])
        }
        _ => None,
    }
    .unwrap_or_else(|| {
        call.relative_paths()
            .into_iter()
            .map(str::to_string)
            .collect()
    });
    let failed = outcome.is_some_and(|o| (-4095..0).contains(&o.0));
    let mutates = !failed && mutating(call);
    let changes = if mutates {
        namespace_changes(call, &named)
    } else {
        Vec::new()
    };
    Footprint {
        named,
        changes,
        mutates,
    }
}

/// True when `ancestor` lies strictly above `path` (`.` is above all).
fn strictly_above(ancestor: &str, path: &str) -> bool {
    if ancestor == "." {
        return path != ".";
    }
    path.len() > ancestor.len()
        && path.starts_with(ancestor)
        && path.as_bytes()[ancestor.len()] == b'/'
}

/// The directory holding `path` (`.` for a top-level entry).
fn parent(path: &str) -> &str {
    match path.rfind('/') {
        Some(i) => &path[..i],
        None if path == "." => "",
        None => ".",
    }
}

/// True when `changer`'s namespace changes can affect what `other` sees.
fn changes_affect(changer: &Footprint, other: &Footprint) -> bool {
    changer.changes.iter().any(|c| {
        other
            .named
            .iter()
            .any(|p| strictly_above(c, p) || parent(c) == p)
    })
}

/// True when two calls of different jobs might not commute (see the module doc).
pub fn dependent(a: &Footprint, b: &Footprint) -> bool {
    if !a.mutates && !b.mutates {
        return false;
    }
    a.named.iter().any(|p| b.named.contains(p)) || changes_affect(a, b) || changes_affect(b, a)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(name: &'static str, args: &[&str]) -> Footprint {
        footprint(&Call::in_prefix(name, args), Some(Outcome(0)))
    }

    #[test]
    fn same_path_with_a_mutation_is_dependent_two_reads_are_not() {
        let mk = fp("mkdirat", &["\"M/__pycache__\"", "0700"]);
        let stat = fp("newfstatat", &["\"M/__pycache__\"", "0x0"]);
        assert!(dependent(&mk, &stat));
        assert!(dependent(&stat, &mk));
        assert!(!dependent(&stat, &stat.clone()));
        let read = fp("openat", &["\"M/a.py\"", "O_RDONLY|O_CLOEXEC"]);
        let write = fp("openat", &["\"M/a.py\"", "O_WRONLY|O_CREAT|O_EXCL", "0600"]);
        assert!(!dependent(&read, &read.clone()));
        assert!(dependent(&read, &write));
    }

    #[test]
    fn a_created_directory_is_above_what_the_other_looks_up_below_it() {
        let mk = fp("mkdirat", &["\"M/__pycache__\"", "0700"]);
        let pyc = fp(
            "openat",
            &["\"M/__pycache__/__init__.pyc\"", "O_RDONLY|O_CLOEXEC"],
        );
        assert!(dependent(&mk, &pyc));
        // A change inside a directory is seen by a stat or listing of it.
        let stat_m = fp("newfstatat", &["\"M\"", "0x0"]);
        assert!(dependent(&mk, &stat_m));
        let list = fp("getdents64", &["<M>"]);
        assert!(dependent(&mk, &list));
        // But not by a stat of a sibling, nor of the directory above M.
        let sibling = fp("newfstatat", &["\"M/a.py\"", "0x0"]);
        assert!(!dependent(&mk, &sibling));
        let top = fp("newfstatat", &["\".\"", "0x0"]);
        assert!(!dependent(&mk, &top));
        assert!(dependent(&fp("mkdir", &["\"M\"", "0777"]), &top));
    }

    #[test]
    fn disjoint_trees_and_failed_calls_are_independent() {
        let a = fp("mkdirat", &["\"a/x\"", "0700"]);
        let b = fp("mkdirat", &["\"b/x\"", "0700"]);
        assert!(!dependent(&a, &b));
        assert!(!dependent(
            &fp("utimensat", &["<a>", "0x0"]),
            &fp("utimensat", &["<b>", "0x0"])
        ));
        // A mkdir that failed with EEXIST changed nothing.
        let failed = footprint(
            &Call::in_prefix("mkdir", &["\"M\"", "0777"]),
            Some(Outcome(-17)),
        );
        assert!(!failed.mutates);
        assert!(!dependent(&failed, &fp("newfstatat", &["\"M\"", "0x0"])));
        // Unknown results count as successes.
        assert!(footprint(&Call::in_prefix("mkdir", &["\"M\"", "0777"]), None).mutates);
    }

    #[test]
    fn renames_links_and_symlinks_change_their_new_names() {
        let r = fp("rename", &["\"M/x.tmp\"", "\"M/x\""]);
        assert_eq!(r.changes, ["M/x.tmp", "M/x"]);
        assert!(dependent(&r, &fp("newfstatat", &["\"M/x\"", "0x0"])));
        let s = fp("symlinkat", &["\"target\"", "\"M/link\""]);
        assert_eq!(s.named, ["M/link"]);
        assert_eq!(s.changes, ["M/link"]);
        assert!(!dependent(&s, &fp("newfstatat", &["\"target\"", "0x0"])));
        // An extended attribute's name is not a path.
        let acl = "\"system.posix_acl_access\"";
        let xa = fp("fsetxattr", &["<a/f1>", acl]);
        assert_eq!(xa.named, ["a/f1"]);
        assert!(!dependent(&xa, &fp("setxattr", &["\"b\"", acl])));
    }
}
