//! An in-memory filesystem with errno-exact POSIX semantics.
//!
//! Inodes live in a vector and are never reused within one execution, so an
//! inode number also tells the order in which entries were created: the order
//! GNU cp's traversal follows. Directories keep their children in a hash
//! map with a fixed hasher (a look-up is one hash and one compare, where a
//! `BTreeMap` compared a name per level); everything that lists them sorts
//! by name first (`readdir`, [`ModelFs::children`], [`Fs::tree`]), so a
//! listing never depends on the map's order or on the host.
//!
//! Cloning is cheap: inodes are shared between clones and copied on their
//! first change (`chunked.rs`), so an execution can start from a prepared
//! filesystem without copying it whole. The filesystem keeps a
//! [`StateKey`] of everything it holds (entries, inodes, descriptors),
//! updated with every change, so two filesystems in the same state have the
//! same key without walking either.

use std::sync::Arc;

use super::chunked::Chunked;
use super::dir_cache::DirCache;
use super::fd_table::FdTable;
use super::names::{Name, Names};
use super::record_locks::RecordLocks;
use super::tree::{Entry, Tree};
use super::Fs;
use crate::content::{Blob, Content};
use crate::limits::{NAME_MAX, PATH_MAX};
use crate::op::{Errno, Fd, Kind, LockCall, Meta, Op, OpResult, OpenFlags, Value};
use crate::state_key::{StateHasher, StateKey};

/// An inode number.
pub type Ino = usize;

const ROOT: Ino = 0;
const MAX_SYMLINK_HOPS: usize = 40;
/// The file-creation mask the model applies, as in a typical build shell.
pub const UMASK: u32 = 0o022;

#[derive(Clone, Debug)]
enum Node {
    /// Behind an `Arc`: inodes live inline in shared chunks
    /// (`chunked.rs`), and the first change of a shared chunk clones every
    /// inode in it; a directory's tables are then shared, not copied,
    /// until that directory itself changes ([`Dir::make_mut`]).
    Dir(Arc<Dir>),
    File(Content),
    Symlink(Arc<str>),
}

/// A directory's entries, and what the state key needs of its past.
#[derive(Clone, Debug, Default)]
struct Dir {
    children: Names<Ino>,
    /// How many entries of each name were removed from it, so the next
    /// inode of that name gets another `ident`.
    removed: Names<u32>,
}

impl Dir {
    /// A new, empty directory node.
    fn empty() -> Node {
        Node::Dir(Arc::default())
    }

    /// `dir`, to change: copied first when a clone of the filesystem
    /// still shares it.
    fn make_mut(dir: &mut Arc<Dir>) -> &mut Dir {
        Arc::make_mut(dir)
    }
}

#[derive(Clone, Debug)]
struct Inode {
    node: Node,
    mode: u32,
    /// A name for this inode that does not depend on when it was created
    /// relative to other inodes (see [`ModelFs::state_key`]).
    ident: StateKey,
}

impl Inode {
    /// The key of this inode's own state (not its children: every entry
    /// of a directory is a part of its own, see [`entry_key`]).
    fn key(&self) -> StateKey {
        use std::hash::Hash;
        let mut h = StateHasher::default();
        (0u8, self.ident, self.mode).hash(&mut h);
        match &self.node {
            Node::Dir(_) => 0u8.hash(&mut h),
            Node::File(content) => {
                1u8.hash(&mut h);
                content.hash_chunks(&mut h);
            }
            Node::Symlink(target) => (2u8, &**target).hash(&mut h),
        }
        h.finish128()
    }
}

/// The key of the directory entry `name` → `child` in `parent` (by idents).
fn entry_key(parent: StateKey, name: &str, child: StateKey) -> StateKey {
    StateKey::of(&(1u8, parent, name, child))
}

/// The key of a `flock` on the inode named `ident`, held by descriptor `fd`.
fn lock_key(ident: StateKey, fd: Fd) -> StateKey {
    StateKey::of(&(3u8, ident, fd))
}

/// `path` as its directory and a plain last name, when it is that simple:
/// relative, with no trailing slash, and a last name other than `.` and
/// `..`. Other paths take the full walk.
fn split_last(path: &str) -> Option<(&str, &str)> {
    let bytes = path.as_bytes();
    if bytes.first() == Some(&b'/') || bytes.last() == Some(&b'/') {
        return None;
    }
    let (dir, name) = match super::path::last_slash(path) {
        Some(i) => (&path[..i], &path[i + 1..]),
        None => ("", path),
    };
    (!name.is_empty() && name != "." && name != "..").then_some((dir, name))
}

#[derive(Clone, Debug)]
struct OpenFile {
    ino: Ino,
    offset: u64,
    writable: bool,
}

impl OpenFile {
    fn key(&self, fd: Fd, ident: StateKey) -> StateKey {
        StateKey::of(&(2u8, fd, ident, self.offset, self.writable))
    }
}

/// The directories a walk has descended through, for `..`: a few inline,
/// the rest on the heap (lookups are the hot path; most paths are shallow).
#[derive(Default)]
struct Ancestors {
    inline: [Ino; 16],
    len: usize,
    spill: Vec<Ino>,
}

impl Ancestors {
    fn push(&mut self, ino: Ino) {
        if self.len < self.inline.len() {
            self.inline[self.len] = ino;
            self.len += 1;
        } else {
            self.spill.push(ino);
        }
    }

    fn pop(&mut self) -> Option<Ino> {
        if let Some(ino) = self.spill.pop() {
            return Some(ino);
        }
        self.len = self.len.checked_sub(1)?;
        Some(self.inline[self.len])
    }
}

/// The in-memory filesystem.
#[derive(Clone, Debug)]
pub struct ModelFs {
    inodes: Chunked<Inode>,
    /// For each inode, the entries and descriptors that reach it. An inode
    /// nothing reaches can never be seen again and leaves the state key.
    refs: Vec<u32>,
    fds: FdTable<OpenFile>,
    /// The `flock`s held: the inode locked and the descriptor holding it,
    /// in inode order (few at a time: a plain vector).
    locks: Vec<(Ino, Fd)>,
    /// The `fcntl` record locks held, by process (`record_locks.rs`).
    record_locks: RecordLocks,
    /// The XOR of the keys of every reachable inode, entry and descriptor.
    key: StateKey,
    /// Directories resolved lately (see `dir_cache.rs`).
    dirs: DirCache,
    /// Whether `key` is kept up to date (see [`ModelFs::set_keyed`]).
    keyed: bool,
    /// Whether what only the key needs is left out for good (see
    /// [`ModelFs::set_keyless`]).
    keyless: bool,
}

impl Default for ModelFs {
    fn default() -> Self {
        ModelFs::new()
    }
}

impl ModelFs {
    /// An empty filesystem: just the root directory, mode 0755.
    pub fn new() -> ModelFs {
        let mut fs = ModelFs {
            inodes: Chunked::default(),
            refs: Vec::new(),
            fds: FdTable::default(),
            locks: Vec::new(),
            record_locks: RecordLocks::default(),
            key: StateKey::default(),
            dirs: DirCache::default(),
            keyed: true,
            keyless: false,
        };
        let root = fs.alloc(Dir::empty(), 0o755, StateKey::of("/"));
        debug_assert_eq!(root, ROOT);
        // The root is always reachable.
        fs.reach(ROOT);
        fs
    }

    /// True for a filesystem nothing has happened to yet: the empty root,
    /// no descriptors.
    pub fn is_pristine(&self) -> bool {
        self.inodes.len() == 1
            && self.fds.is_empty()
            && self.record_locks.is_empty()
            && matches!(&self.inodes[ROOT].node, Node::Dir(d) if d.children.is_empty())
    }

    /// The key of the whole state: equal for two filesystems holding the
    /// same entries, contents (blob by blob), modes and descriptors. Kept up
    /// to date with every change, so this is O(1).
    ///
    /// Inode numbers are left out: no op reveals them, so two filesystems
    /// that differ only in the order their inodes were made behave the same.
    /// Each inode is named instead by where it was made: its parent's name,
    /// its own name, its kind, and how many entries of that name the parent
    /// lost before. That does not depend on the interleaving of unrelated
    /// creations.
    pub fn state_key(&self) -> StateKey {
        if self.keyed {
            self.key
        } else {
            self.state_key_from_scratch()
        }
    }

    /// Whether the filesystem keeps its state key up to date with every
    /// change (the default). Executions nothing asks the key of (dpor,
    /// shrinking, replays) turn it off: keeping it is about a fifth of
    /// what their ops cost. Turning it back on recomputes it. An unkeyed
    /// filesystem tells [`Fs::state_key`] it has none, as the real one does.
    pub fn set_keyed(&mut self, keyed: bool) {
        assert!(!keyed || !self.keyless, "a keyless filesystem has no key");
        if keyed && !self.keyed {
            self.key = self.state_key_from_scratch();
        }
        self.keyed = keyed;
    }

    /// True when the state key is kept up to date.
    pub fn is_keyed(&self) -> bool {
        self.keyed
    }

    /// For the rest of an execution nothing will ever ask the key of (an
    /// exploration's execution that seeks no tail): from here on the model
    /// keeps neither the key nor what only the key needs (the name of
    /// each new inode, the counts of names removed from each directory).
    /// It behaves exactly the same; asking its key afterwards panics, and
    /// [`Fs::state_key`] says it has none.
    pub fn set_keyless(&mut self) {
        self.keyed = false;
        self.keyless = true;
    }

    /// The key recomputed from scratch (what [`ModelFs::state_key`] keeps
    /// incrementally; for tests).
    pub fn state_key_from_scratch(&self) -> StateKey {
        assert!(!self.keyless, "a keyless filesystem has no key");
        let mut key = StateKey::default();
        for (ino, inode) in self.inodes.iter().enumerate() {
            if self.refs[ino] == 0 {
                continue;
            }
            key ^= inode.key();
            if let Node::Dir(dir) = &inode.node {
                for (name, child) in dir.children.iter() {
                    key ^= entry_key(inode.ident, name, self.inodes[*child].ident);
                }
            }
        }
        for (fd, of) in self.fds.iter() {
            key ^= of.key(fd, self.inodes[of.ino].ident);
        }
        for &(ino, fd) in &self.locks {
            key ^= lock_key(self.inodes[ino].ident, fd);
        }
        key ^= self.record_locks.key(|ino| self.inodes[ino].ident);
        key
    }

    /// A filesystem holding `tree`, created in path order.
    pub fn from_tree(tree: &Tree, blobs: &dyn Fn(&str) -> Option<Arc<Blob>>) -> ModelFs {
        let mut fs = ModelFs::new();
        for (path, entry) in tree.iter() {
            let (parent, name) = match fs.resolve_parent(path) {
                Ok(pn) => pn,
                Err(_) => continue,
            };
            let node = match entry.kind {
                Kind::Dir => Dir::empty(),
                Kind::File => Node::File(blobs(path).map(Content::from_blob).unwrap_or_default()),
                Kind::Symlink => Node::Symlink(entry.target.clone().unwrap_or_default().into()),
            };
            fs.link(parent, Name::new(name), node, entry.mode);
        }
        fs
    }

    /// The inode number of `path` without following a final symlink.
    pub fn inode_of(&self, path: &str) -> Option<Ino> {
        self.lookup(path, false).ok()
    }

    /// The children of the directory at `path` with their inode numbers, in name order.
    pub fn children(&self, path: &str) -> Vec<(String, Ino)> {
        match self.lookup(path, true).map(|i| &self.inodes[i].node) {
            Ok(Node::Dir(dir)) => {
                let mut named: Vec<(String, Ino)> = dir
                    .children
                    .iter()
                    .map(|(n, i)| (n.to_string(), *i))
                    .collect();
                named.sort_unstable();
                named
            }
            _ => Vec::new(),
        }
    }

    /// The content of the file at `path`, following symlinks.
    pub fn content(&self, path: &str) -> Option<&Content> {
        match self.lookup(path, true).map(|i| &self.inodes[i].node) {
            Ok(Node::File(c)) => Some(c),
            _ => None,
        }
    }

    fn alloc(&mut self, node: Node, mode: u32, ident: StateKey) -> Ino {
        let ino = self.inodes.len();
        let inode = Inode { node, mode, ident };
        self.inodes.push(inode);
        self.refs.push(0);
        ino
    }

    /// One more entry or descriptor reaches `ino`.
    fn reach(&mut self, ino: Ino) {
        self.refs[ino] += 1;
        if self.refs[ino] == 1 && self.keyed {
            self.key ^= self.inodes[ino].key();
        }
    }

    /// One entry or descriptor less reaches `ino`.
    fn unreach(&mut self, ino: Ino) {
        self.refs[ino] -= 1;
        if self.refs[ino] == 0 && self.keyed {
            self.key ^= self.inodes[ino].key();
        }
    }

    /// Changes inode `ino` through `change`, keeping the state key.
    fn change_inode<R>(&mut self, ino: Ino, change: impl FnOnce(&mut Inode) -> R) -> R {
        let reachable = self.refs[ino] > 0;
        if reachable && self.keyed {
            self.key ^= self.inodes[ino].key();
        }
        let inode = self.inodes.make_mut(ino);
        let out = change(inode);
        if reachable && self.keyed {
            self.key ^= inode.key();
        }
        out
    }

    /// Makes `name` in directory `parent` point at `child`, replacing what it
    /// named. The name is kept only when the directory did not hold it (as
    /// a part of its op's path when it came with one, [`Name::in_path`]);
    /// a name replaced is counted removed under the directory's own copy.
    fn insert_child(&mut self, parent: Ino, name: Name<'_>, child: Ino) {
        let (pid, cid) = (self.inodes[parent].ident, self.inodes[child].ident);
        if self.keyed {
            self.key ^= entry_key(pid, name.as_str(), cid);
        }
        let Node::Dir(dir) = &mut self.inodes.make_mut(parent).node else {
            return;
        };
        let dir = Dir::make_mut(dir);
        let old = match dir.children.get_mut(name) {
            Some(slot) => Some(std::mem::replace(slot, child)),
            None => {
                dir.children.insert_new(name, child);
                None
            }
        };
        if old.is_some() && !self.keyless {
            match dir.removed.get_mut(name) {
                Some(count) => *count += 1,
                // The directory holds the name: the count shares it.
                None => match dir.children.held_name(name) {
                    Some(held) => dir.removed.insert_held(name, held, 1),
                    None => dir.removed.insert_new(name, 1),
                },
            }
        }
        self.reach(child);
        if let Some(old) = old {
            self.forget_dirs_through(old);
            if self.keyed {
                self.key ^= entry_key(pid, name.as_str(), self.inodes[old].ident);
            }
            self.unreach(old);
        }
    }

    /// An entry leading to `old` was removed or replaced: forget the cached
    /// directories, unless `old` is a file. A resolved directory path only
    /// goes through entries that lead to directories or symlinks (every
    /// component but `.` and `..` names one), so removing or replacing an
    /// entry that leads to a file changes where no cached path leads.
    fn forget_dirs_through(&mut self, old: Ino) {
        if !matches!(self.inodes[old].node, Node::File(_)) {
            self.dirs.forget_all();
        }
    }

    /// Removes `name` from directory `parent`.
    fn remove_child(&mut self, parent: Ino, name: Name<'_>) {
        let pid = self.inodes[parent].ident;
        let Node::Dir(dir) = &mut self.inodes.make_mut(parent).node else {
            return;
        };
        let dir = Dir::make_mut(dir);
        if let Some((held, old)) = dir.children.remove(name) {
            let entry = self.keyed.then(|| (pid, held.clone()));
            // The entry's own name moves into the count: no allocation.
            if !self.keyless {
                match dir.removed.get_mut(name) {
                    Some(count) => *count += 1,
                    None => dir.removed.insert_held(name, held, 1),
                }
            }
            if let Some((pid, held)) = entry {
                self.key ^= entry_key(pid, held.as_str(), self.inodes[old].ident);
            }
            self.forget_dirs_through(old);
            self.unreach(old);
        }
    }

    fn insert_fd(&mut self, fd: Fd, of: OpenFile) {
        if self.keyed {
            self.key ^= of.key(fd, self.inodes[of.ino].ident);
        }
        self.reach(of.ino);
        if let Some(old) = self.fds.insert(fd, of) {
            if self.keyed {
                self.key ^= old.key(fd, self.inodes[old.ino].ident);
            }
            self.unreach(old.ino);
        }
    }

    fn remove_fd(&mut self, fd: Fd) -> Option<OpenFile> {
        let old = self.fds.remove(fd)?;
        // Closing the descriptor releases the lock it holds (the last close
        // of an open file description does; descriptors are never dup'ed).
        if let Some(i) = self.locks.iter().position(|&(_, holder)| holder == fd) {
            let (ino, _) = self.locks.remove(i);
            if self.keyed {
                self.key ^= lock_key(self.inodes[ino].ident, fd);
            }
        }
        // Closing any descriptor a process has on a file releases the
        // process's `fcntl` lock on it.
        let released = self
            .record_locks
            .closed(fd, old.ino, self.inodes[old.ino].ident);
        if self.keyed {
            self.key ^= released;
            self.key ^= old.key(fd, self.inodes[old.ino].ident);
        }
        self.unreach(old.ino);
        Some(old)
    }

    fn advance_fd(&mut self, fd: Fd, by: u64) {
        // In place: the same inode stays reached, only the offset's part of
        // the key changes.
        if let Some(of) = self.fds.get_mut(fd) {
            let ident = self.inodes[of.ino].ident;
            if self.keyed {
                self.key ^= of.key(fd, ident);
            }
            of.offset += by;
            if self.keyed {
                self.key ^= of.key(fd, ident);
            }
        }
    }

    fn link(&mut self, parent: Ino, name: Name<'_>, node: Node, mode: u32) -> Ino {
        let parent_inode = &self.inodes[parent];
        let kind = match node {
            Node::Dir(_) => 0u8,
            Node::File(_) => 1,
            Node::Symlink(_) => 2,
        };
        let ident = if self.keyless {
            StateKey::default()
        } else {
            let before = match &parent_inode.node {
                Node::Dir(dir) => dir.removed.get(name).copied().unwrap_or(0),
                _ => 0,
            };
            StateKey::of(&(parent_inode.ident, name.as_str(), kind, before))
        };
        let ino = self.alloc(node, mode, ident);
        self.insert_child(parent, name, ino);
        ino
    }

    fn child(&self, dir: Ino, name: Name<'_>) -> Result<Option<Ino>, Errno> {
        match &self.inodes[dir].node {
            Node::Dir(dir) => Ok(dir.children.get(name).copied()),
            _ => Err(Errno::ENOTDIR),
        }
    }

    /// Walks `path` from the root. Intermediate symlinks are always followed;
    /// the final one only when `follow_last`. Leaving the root fails with EXDEV,
    /// the way `openat2(RESOLVE_BENEATH)` does.
    fn lookup(&self, path: &str, follow_last: bool) -> Result<Ino, Errno> {
        let mut hops = 0;
        self.walk(
            ROOT,
            &mut Ancestors::default(),
            path,
            follow_last,
            &mut hops,
        )
    }

    fn walk(
        &self,
        start: Ino,
        stack: &mut Ancestors,
        path: &str,
        follow_last: bool,
        hops: &mut usize,
    ) -> Result<Ino, Errno> {
        if path.starts_with('/') {
            return Err(Errno::EXDEV);
        }
        if path.len() >= PATH_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        let mut cur = start;
        // `.` stays a component: like `..`, it needs a directory to stand in.
        let mut comps = path.split('/').filter(|c| !c.is_empty()).peekable();
        while let Some(comp) = comps.next() {
            let last = comps.peek().is_none();
            if !matches!(self.inodes[cur].node, Node::Dir(_)) {
                return Err(Errno::ENOTDIR);
            }
            if comp == "." {
                continue;
            }
            if comp.len() > NAME_MAX {
                return Err(Errno::ENAMETOOLONG);
            }
            if comp == ".." {
                cur = stack.pop().ok_or(Errno::EXDEV)?;
                continue;
            }
            let next = self.child(cur, Name::new(comp))?.ok_or(Errno::ENOENT)?;
            if let Node::Symlink(target) = &self.inodes[next].node {
                if !last || follow_last {
                    *hops += 1;
                    if *hops > MAX_SYMLINK_HOPS {
                        return Err(Errno::ELOOP);
                    }
                    let target = target.clone();
                    cur = self.walk(cur, stack, &target, true, hops)?;
                    continue;
                }
            }
            stack.push(cur);
            cur = next;
        }
        Ok(cur)
    }

    /// Resolves everything but the last component, which must be a plain
    /// name of at most `NAME_MAX` bytes.
    fn resolve_parent<'p>(&self, path: &'p str) -> Result<(Ino, &'p str), Errno> {
        let (parent, name) = self.resolve_parent_unchecked(path)?;
        if name.len() > NAME_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        Ok((parent, name))
    }

    /// [`ModelFs::resolve_parent`] without judging the final name's length.
    fn resolve_parent_unchecked<'p>(&self, path: &'p str) -> Result<(Ino, &'p str), Errno> {
        if path.starts_with('/') {
            return Err(Errno::EXDEV);
        }
        let path = path.trim_end_matches('/');
        let (dir, name) = match path.rfind('/') {
            Some(i) => (&path[..i], &path[i + 1..]),
            None => ("", path),
        };
        if name.is_empty() || name == "." {
            return Err(Errno::EEXIST);
        }
        if name == ".." {
            return Err(Errno::EXDEV);
        }
        if path.len() >= PATH_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        let parent = self.lookup(dir, true)?;
        match self.inodes[parent].node {
            Node::Dir(_) => Ok((parent, name)),
            _ => Err(Errno::ENOTDIR),
        }
    }

    /// The directory `dir` leads to (following a final symlink), through
    /// the cache of resolved directories.
    fn cached_dir(&mut self, dir: &str) -> Result<Ino, Errno> {
        if dir.is_empty() {
            return Ok(ROOT);
        }
        if let Some(ino) = self.dirs.get(dir) {
            return Ok(ino);
        }
        let ino = self.lookup(dir, true)?;
        if matches!(self.inodes[ino].node, Node::Dir(_)) {
            self.dirs.put(dir, ino);
        }
        Ok(ino)
    }

    /// [`ModelFs::resolve_parent`], resolving the directory through the cache.
    fn cached_parent<'p>(&mut self, path: &'p str) -> Result<(Ino, &'p str), Errno> {
        let (parent, name) = self.cached_parent_unchecked(path)?;
        if name.len() > NAME_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        Ok((parent, name))
    }

    /// [`ModelFs::cached_parent`] without judging the final name's length
    /// (`rename` judges each name when it looks it up).
    fn cached_parent_unchecked<'p>(&mut self, path: &'p str) -> Result<(Ino, &'p str), Errno> {
        let (dir, name) = match split_last(path) {
            Some(split) => split,
            None => return self.resolve_parent_unchecked(path),
        };
        if path.len() >= PATH_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        let parent = self.cached_dir(dir)?;
        match self.inodes[parent].node {
            Node::Dir(_) => Ok((parent, name)),
            _ => Err(Errno::ENOTDIR),
        }
    }

    /// [`ModelFs::lookup`], resolving the directory through the cache. The
    /// same result in every case: where the fast way would differ (a
    /// final symlink to follow, `.`, `..`, a trailing slash) it walks.
    fn cached_lookup(&mut self, path: &str, follow_last: bool) -> Result<Ino, Errno> {
        let Some((dir, name)) = split_last(path) else {
            return self.lookup(path, follow_last);
        };
        if path.len() >= PATH_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        let dir_ino = self.cached_dir(dir)?;
        if !matches!(self.inodes[dir_ino].node, Node::Dir(_)) {
            return Err(Errno::ENOTDIR);
        }
        if name.len() > NAME_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        let next = self.child(dir_ino, Name::new(name))?.ok_or(Errno::ENOENT)?;
        if follow_last && matches!(self.inodes[next].node, Node::Symlink(_)) {
            return self.lookup(path, follow_last);
        }
        Ok(next)
    }

    fn meta(&self, ino: Ino) -> Meta {
        let inode = &self.inodes[ino];
        match &inode.node {
            Node::Dir(_) => Meta {
                kind: Kind::Dir,
                mode: inode.mode,
                size: 0,
            },
            Node::File(c) => Meta {
                kind: Kind::File,
                mode: inode.mode,
                size: c.len(),
            },
            Node::Symlink(t) => Meta {
                kind: Kind::Symlink,
                mode: 0o777,
                size: t.len() as u64,
            },
        }
    }

    fn next_fd(&self) -> Fd {
        self.fds.lowest_free()
    }

    fn mkdir(&mut self, path: &Arc<str>, mode: u32) -> OpResult {
        let (parent, name) = self.cached_parent(path)?;
        let name = Name::in_path(path, name);
        if self.child(parent, name)?.is_some() {
            return Err(Errno::EEXIST);
        }
        self.link(parent, name, Dir::empty(), mode & 0o7777 & !UMASK);
        Ok(Value::Unit)
    }

    fn open(&mut self, path: &Arc<str>, flags: OpenFlags, mode: u32) -> OpResult {
        let ino = if flags.create {
            let (parent, name) = self.cached_parent(path)?;
            let name = Name::in_path(path, name);
            match self.child(parent, name)? {
                Some(_) if flags.excl => return Err(Errno::EEXIST),
                Some(existing) => match &self.inodes[existing].node {
                    Node::Symlink(target) => {
                        let target = target.clone();
                        match self.cached_lookup(path, true) {
                            Ok(ino) => ino,
                            Err(Errno::ENOENT) if target.starts_with('/') => {
                                return Err(Errno::EXDEV)
                            }
                            Err(Errno::ENOENT) => {
                                let dir = super::path::parent_of(path.trim_end_matches('/'));
                                let joined: Arc<str> = if dir.is_empty() {
                                    target.clone()
                                } else {
                                    format!("{dir}/{target}").into()
                                };
                                return self.open(&joined, flags, mode);
                            }
                            Err(e) => return Err(e),
                        }
                    }
                    _ => existing,
                },
                None => self.link(
                    parent,
                    name,
                    Node::File(Content::empty()),
                    mode & 0o7777 & !UMASK,
                ),
            }
        } else {
            self.cached_lookup(path, true)?
        };
        match &self.inodes[ino].node {
            // The kernel refuses O_CREAT, write access and O_TRUNC on a directory.
            Node::Dir(_) if flags.write || flags.create || flags.trunc => {
                return Err(Errno::EISDIR)
            }
            // Linux truncates on O_TRUNC even with O_RDONLY.
            Node::File(content) if flags.trunc && !content.is_empty() => {
                self.change_inode(ino, |inode| inode.node = Node::File(Content::empty()))
            }
            _ => {}
        }
        let fd = self.next_fd();
        self.insert_fd(
            fd,
            OpenFile {
                ino,
                offset: 0,
                writable: flags.write,
            },
        );
        Ok(Value::Fd(fd))
    }

    fn write(&mut self, fd: Fd, blob: &Arc<Blob>) -> OpResult {
        let of = self.fds.get(fd).ok_or(Errno::EBADF)?.clone();
        if !of.writable {
            return Err(Errno::EBADF);
        }
        if !matches!(self.inodes[of.ino].node, Node::File(_)) {
            return Err(Errno::EISDIR);
        }
        if blob.is_empty() {
            // A zero-byte write past the end does not extend the file.
            return Ok(Value::Written(0));
        }
        self.change_inode(of.ino, |inode| {
            let Node::File(content) = &mut inode.node else {
                unreachable!("checked to be a file above");
            };
            if of.offset == content.len() {
                content.push(blob.clone());
            } else {
                let mut bytes = content.to_bytes();
                let start = of.offset as usize;
                if bytes.len() < start {
                    bytes.resize(start, 0);
                }
                let end = start + blob.bytes().len();
                if bytes.len() < end {
                    bytes.resize(end, 0);
                }
                bytes[start..end].copy_from_slice(blob.bytes());
                *content = Content::from_blob(Blob::new(bytes));
            }
        });
        self.advance_fd(fd, blob.len());
        Ok(Value::Written(blob.len()))
    }

    fn read(&mut self, fd: Fd) -> OpResult {
        let of = self.fds.get(fd).ok_or(Errno::EBADF)?.clone();
        if of.writable {
            // Descriptors are O_RDONLY or O_WRONLY, never O_RDWR.
            return Err(Errno::EBADF);
        }
        let Node::File(content) = &self.inodes[of.ino].node else {
            return Err(Errno::EISDIR);
        };
        let data = content.slice_from(of.offset);
        if !data.is_empty() {
            self.advance_fd(fd, data.len());
        }
        Ok(Value::Data(data))
    }

    fn rename(&mut self, from: &str, to: &Arc<str>) -> OpResult {
        // Like the kernel: both parents are resolved before the source is
        // looked up, and each final name is only judged (NAME_MAX) when it
        // is looked up: the source's, then, if it exists, the target's.
        let (fparent, fname) = self.cached_parent_unchecked(from)?;
        let (tparent, tname) = self.cached_parent_unchecked(to)?;
        if fname.len() > NAME_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        let fname = Name::new(fname);
        let src = self.child(fparent, fname)?.ok_or(Errno::ENOENT)?;
        if tname.len() > NAME_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        let tname = Name::in_path(to, tname);
        let src_is_dir = matches!(self.inodes[src].node, Node::Dir(_));
        if src_is_dir && self.is_ancestor(src, tparent) {
            return Err(Errno::EINVAL);
        }
        if let Some(dst) = self.child(tparent, tname)? {
            if dst == src {
                return Ok(Value::Unit);
            }
            // The kernel refuses to replace an ancestor of the source first.
            if self.is_ancestor(dst, fparent) {
                return Err(Errno::ENOTEMPTY);
            }
            match (&self.inodes[dst].node, src_is_dir) {
                (Node::Dir(_), false) => return Err(Errno::EISDIR),
                (Node::Dir(dir), true) if !dir.children.is_empty() => return Err(Errno::ENOTEMPTY),
                (Node::Dir(_), true) => {}
                (_, true) => return Err(Errno::ENOTDIR),
                (_, false) => {}
            }
        }
        self.remove_child(fparent, fname);
        self.insert_child(tparent, tname, src);
        Ok(Value::Unit)
    }

    /// True when `dir` is `ancestor` or lies below it.
    fn is_ancestor(&self, ancestor: Ino, dir: Ino) -> bool {
        if ancestor == dir {
            return true;
        }
        if !matches!(self.inodes[ancestor].node, Node::Dir(_)) {
            return false;
        }
        let mut stack = vec![ancestor];
        while let Some(d) = stack.pop() {
            if let Node::Dir(entries) = &self.inodes[d].node {
                for c in entries.children.values() {
                    if *c == dir {
                        return true;
                    }
                    stack.push(*c);
                }
            }
        }
        false
    }

    /// `link(from, to)` as `linkat` of two resolved parents: both parents
    /// first (as for `rename`), then the source name (ENOENT; a final
    /// symlink is linked itself, not followed: no `AT_SYMLINK_FOLLOW`),
    /// then the new name (EEXIST), then a directory is refused (EPERM).
    fn hard_link(&mut self, from: &str, to: &Arc<str>) -> OpResult {
        let (fparent, fname) = self.cached_parent(from)?;
        let fname = Name::new(fname);
        let (parent, name) = self.cached_parent(to)?;
        let name = Name::in_path(to, name);
        let ino = self.child(fparent, fname)?.ok_or(Errno::ENOENT)?;
        if self.child(parent, name)?.is_some() {
            return Err(Errno::EEXIST);
        }
        if matches!(self.inodes[ino].node, Node::Dir(_)) {
            return Err(Errno::EPERM);
        }
        self.insert_child(parent, name, ino);
        Ok(Value::Unit)
    }

    /// `flock(fd, LOCK_EX|LOCK_NB)`: EBADF for a descriptor not open,
    /// EAGAIN while another descriptor holds the inode locked; taking it
    /// again through the holder is a no-op.
    fn flock(&mut self, fd: Fd) -> OpResult {
        let ino = self.fds.get(fd).ok_or(Errno::EBADF)?.ino;
        match self.locks.iter().find(|&&(locked, _)| locked == ino) {
            Some(&(_, holder)) if holder == fd => return Ok(Value::Unit),
            Some(_) => return Err(Errno::EAGAIN),
            None => {}
        }
        let at = self.locks.partition_point(|&(locked, _)| locked < ino);
        self.locks.insert(at, (ino, fd));
        if self.keyed {
            self.key ^= lock_key(self.inodes[ino].ident, fd);
        }
        Ok(Value::Unit)
    }

    /// `fcntl(fd, F_SETLK, {F_WRLCK, whole file})` by `owner`: EBADF for a
    /// descriptor not open, EAGAIN while another process holds the inode
    /// locked; the owner taking it again, through any descriptor, is a
    /// no-op (`record_locks.rs`).
    fn fcntl_lock(&mut self, fd: Fd, owner: &Arc<str>) -> OpResult {
        let of = self.fds.get(fd).ok_or(Errno::EBADF)?;
        // A write lock needs a descriptor open for writing.
        if !of.writable {
            return Err(Errno::EBADF);
        }
        let ino = of.ino;
        let delta = self
            .record_locks
            .take(ino, self.inodes[ino].ident, fd, owner)?;
        if self.keyed {
            self.key ^= delta;
        }
        Ok(Value::Unit)
    }

    /// True when a process other than `asker` holds an `fcntl` lock on
    /// what `path` leads to.
    pub fn is_record_locked(&self, path: &str, asker: &str) -> bool {
        self.lookup(path, true)
            .is_ok_and(|ino| self.record_locks.held_by_other(ino, asker))
    }

    /// True when some descriptor holds a `flock` on what `path` leads to.
    pub fn is_locked(&self, path: &str) -> bool {
        self.lookup(path, true)
            .is_ok_and(|ino| self.locks.iter().any(|&(locked, _)| locked == ino))
    }

    /// `renameat2(a, b, RENAME_EXCHANGE)`: both parents are resolved, then
    /// both entries must exist (ENOENT); a directory cannot be swapped
    /// with an entry below it (EINVAL). The two names swap inodes.
    fn rename_exchange(&mut self, a: &Arc<str>, b: &Arc<str>) -> OpResult {
        let (aparent, aname) = self.cached_parent(a)?;
        let aname = Name::in_path(a, aname);
        let (bparent, bname) = self.cached_parent(b)?;
        let bname = Name::in_path(b, bname);
        let aino = self.child(aparent, aname)?.ok_or(Errno::ENOENT)?;
        let bino = self.child(bparent, bname)?.ok_or(Errno::ENOENT)?;
        if aino == bino {
            return Ok(Value::Unit);
        }
        if self.is_ancestor(aino, bparent) || self.is_ancestor(bino, aparent) {
            return Err(Errno::EINVAL);
        }
        // Reach `aino` once more while its name is replaced, so it never
        // leaves the state key in between.
        self.reach(aino);
        self.insert_child(aparent, aname, bino);
        self.insert_child(bparent, bname, aino);
        self.unreach(aino);
        Ok(Value::Unit)
    }

    fn unlink(&mut self, path: &str) -> OpResult {
        let (parent, name) = self.cached_parent(path)?;
        let name = Name::new(name);
        let ino = self.child(parent, name)?.ok_or(Errno::ENOENT)?;
        if matches!(self.inodes[ino].node, Node::Dir(_)) {
            return Err(Errno::EISDIR);
        }
        self.remove_child(parent, name);
        Ok(Value::Unit)
    }

    fn rmdir(&mut self, path: &str) -> OpResult {
        let trimmed = path.trim_end_matches('/');
        if trimmed.rsplit('/').next() == Some(".") {
            return Err(Errno::EINVAL);
        }
        let (parent, name) = self.cached_parent(path)?;
        let name = Name::new(name);
        let ino = self.child(parent, name)?.ok_or(Errno::ENOENT)?;
        match &self.inodes[ino].node {
            Node::Dir(dir) if !dir.children.is_empty() => return Err(Errno::ENOTEMPTY),
            Node::Dir(_) => {}
            _ => return Err(Errno::ENOTDIR),
        }
        self.remove_child(parent, name);
        Ok(Value::Unit)
    }

    fn symlink(&mut self, target: &str, path: &Arc<str>) -> OpResult {
        let (parent, name) = self.cached_parent(path)?;
        let name = Name::in_path(path, name);
        if self.child(parent, name)?.is_some() {
            return Err(Errno::EEXIST);
        }
        self.link(parent, name, Node::Symlink(target.into()), 0o777);
        Ok(Value::Unit)
    }

    fn chmod(&mut self, path: &str, mode: u32) -> OpResult {
        let ino = self.cached_lookup(path, true)?;
        self.change_inode(ino, |inode| inode.mode = mode & 0o7777);
        Ok(Value::Unit)
    }

    fn readdir(&mut self, path: &str) -> OpResult {
        let ino = self.cached_lookup(path, true)?;
        match &self.inodes[ino].node {
            Node::Dir(dir) => {
                let mut names: Vec<String> =
                    dir.children.iter().map(|(k, _)| k.to_string()).collect();
                names.sort_unstable();
                Ok(Value::Names(names))
            }
            _ => Err(Errno::ENOTDIR),
        }
    }

    fn entry(&self, ino: Ino) -> Entry {
        let inode = &self.inodes[ino];
        match &inode.node {
            Node::Dir(_) => Entry::dir(inode.mode),
            Node::File(c) => Entry {
                kind: Kind::File,
                mode: inode.mode,
                size: c.len(),
                digest: Some(c.digest()),
                target: None,
                bytecode_source: c.bytecode_source(),
            },
            Node::Symlink(t) => Entry {
                kind: Kind::Symlink,
                mode: 0o777,
                size: 0,
                digest: None,
                target: Some(t.to_string()),
                bytecode_source: None,
            },
        }
    }
}

/// One thing [`Fs::tree`] lists: a child entry of a directory, or a child
/// directory's subtree (everything below it).
struct Listed<'a> {
    name: &'a str,
    subtree: bool,
    ino: Ino,
    /// The length of the directory's path (0 at the root).
    parent_len: usize,
}

/// The order of the paths of two things listed in one directory: an entry
/// as its name, a subtree as its name and a `/` (every path in it starts
/// so). Listing a directory in this order lists every path below it in
/// byte order: `a`, `a-b`, `a/c` (`-` sorts before `/`).
fn in_path_order(a: &Listed<'_>, b: &Listed<'_>) -> std::cmp::Ordering {
    let (x, y) = (a.name.as_bytes(), b.name.as_bytes());
    let n = x.len().min(y.len());
    x[..n].cmp(&y[..n]).then_with(|| {
        // Past the shorter name: its end (before anything) or its `/`.
        let next = |s: &[u8], subtree: bool| s.get(n).copied().or(subtree.then_some(b'/'));
        next(x, a.subtree).cmp(&next(y, b.subtree))
    })
}

impl ModelFs {
    /// Every entry under the root with its path, in the byte order of the
    /// paths (see [`in_path_order`]): what [`Fs::tree`] holds, listed so
    /// that the tree's map, sorting them, finds them sorted already (in any
    /// other order, comparing long paths that share most of their bytes
    /// was most of what building a tree cost).
    fn listing(&self) -> Vec<(String, Entry)> {
        let mut entries: Vec<(String, Entry)> = Vec::new();
        self.each_listed(|path, ino| {
            entries.push((path.to_string(), self.entry(ino)));
            true
        });
        entries
    }

    /// True when the listing is exactly `tree`'s entries: what
    /// `Tree::from_entries(self.listing()) == *tree` says, without making
    /// a path, an entry or a tree.
    fn lists(&self, tree: &Tree) -> bool {
        let mut expected = tree.iter();
        self.each_listed(|path, ino| {
            matches!(expected.next(), Some((p, e)) if p == path && self.entry(ino) == *e)
        }) && expected.next().is_none()
    }

    /// Calls `visit` with the path and inode of every entry, in path order
    /// (see [`ModelFs::listing`]), until it returns false; false then.
    fn each_listed(&self, mut visit: impl FnMut(&str, Ino) -> bool) -> bool {
        let mut path = String::new();
        let mut stack: Vec<Listed<'_>> = Vec::new();
        self.push_listing(ROOT, 0, &mut stack);
        while let Some(item) = stack.pop() {
            path.truncate(item.parent_len);
            if item.parent_len > 0 {
                path.push('/');
            }
            path.push_str(item.name);
            if item.subtree {
                self.push_listing(item.ino, path.len(), &mut stack);
            } else if !visit(&path, item.ino) {
                return false;
            }
        }
        true
    }

    /// Pushes the children of directory `dir` (whose path is `parent_len`
    /// bytes long) onto `stack`, so that they pop in path order.
    fn push_listing<'a>(&'a self, dir: Ino, parent_len: usize, stack: &mut Vec<Listed<'a>>) {
        let Node::Dir(entries) = &self.inodes[dir].node else {
            return;
        };
        let from = stack.len();
        for (name, &ino) in entries.children.iter() {
            let listed = |subtree| Listed {
                name,
                subtree,
                ino,
                parent_len,
            };
            stack.push(listed(false));
            if matches!(self.inodes[ino].node, Node::Dir(_)) {
                stack.push(listed(true));
            }
        }
        // Popped last to first.
        stack[from..].sort_unstable_by(|a, b| in_path_order(b, a));
    }
}

impl Fs for ModelFs {
    fn apply(&mut self, op: &Op) -> OpResult {
        if let Some(errno) = super::name_limits::refused_arguments(op) {
            return Err(errno);
        }
        match op {
            Op::Lstat { path } => self
                .cached_lookup(path, false)
                .map(|i| Value::Meta(self.meta(i))),
            Op::Stat { path } => self
                .cached_lookup(path, true)
                .map(|i| Value::Meta(self.meta(i))),
            Op::Mkdir { path, mode } => self.mkdir(path, *mode),
            Op::Open { path, flags, mode } => self.open(path, *flags, *mode),
            Op::Write { fd, blob, .. } => self.write(*fd, blob),
            Op::Read { fd, .. } => self.read(*fd),
            Op::Close { fd, .. } => self.remove_fd(*fd).map(|_| Value::Unit).ok_or(Errno::EBADF),
            Op::Rename { from, to } => self.rename(from, to),
            Op::Unlink { path } => self.unlink(path),
            Op::Rmdir { path } => self.rmdir(path),
            Op::Symlink { target, path } => self.symlink(target, path),
            Op::Chmod { path, mode } => self.chmod(path, *mode),
            Op::Readdir { path } => self.readdir(path),
            Op::Link { from, to } => self.hard_link(from, to),
            Op::Flock {
                fd,
                call: LockCall::Flock,
                ..
            } => self.flock(*fd),
            Op::Flock {
                fd,
                call: LockCall::Fcntl { owner },
                ..
            } => self.fcntl_lock(*fd, owner),
            Op::RenameExchange { a, b } => self.rename_exchange(a, b),
        }
    }

    fn probe(&self, path: &str) -> Option<Kind> {
        if let Some(locked) = super::lock_probe::locked_path(path) {
            return self.is_locked(locked).then_some(Kind::File);
        }
        if let Some((asker, locked)) = super::lock_probe::record_locked_path(path) {
            return self.is_record_locked(locked, asker).then_some(Kind::File);
        }
        self.lookup(path, true).ok().map(|i| self.meta(i).kind)
    }

    fn state_key(&self) -> Option<StateKey> {
        self.keyed.then_some(self.key)
    }

    fn as_model_mut(&mut self) -> Option<&mut ModelFs> {
        Some(self)
    }

    fn as_model(&self) -> Option<&ModelFs> {
        Some(self)
    }

    fn tree(&self) -> Tree {
        Tree::from_entries(self.listing())
    }

    fn tree_like(&self, expected: &Tree) -> Tree {
        if self.lists(expected) {
            expected.clone()
        } else {
            self.tree()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Arc<str> {
        s.into()
    }

    fn mkdir(fs: &mut ModelFs, path: &str) -> OpResult {
        fs.apply(&Op::Mkdir {
            path: p(path),
            mode: 0o777,
        })
    }

    fn create(fs: &mut ModelFs, path: &str, flags: OpenFlags) -> OpResult {
        fs.apply(&Op::Open {
            path: p(path),
            flags,
            mode: 0o666,
        })
    }

    /// After a clone, changing an inode copies its chunk, every inode in
    /// it; a directory in that chunk keeps sharing its entries with the
    /// original until it changes itself, and then the original keeps its own.
    #[test]
    fn a_copied_chunk_shares_its_directories_until_they_change() {
        let mut fs = ModelFs::new();
        mkdir(&mut fs, "d").unwrap();
        create(&mut fs, "f", OpenFlags::CREATE_NEW).unwrap();
        let mut clone = fs.clone();
        clone
            .apply(&Op::Chmod {
                path: p("f"),
                mode: 0o600,
            })
            .unwrap();
        let d = fs.lookup("d", true).unwrap();
        let shared = |a: &ModelFs, b: &ModelFs| match (&a.inodes[d].node, &b.inodes[d].node) {
            (Node::Dir(x), Node::Dir(y)) => Arc::ptr_eq(x, y),
            _ => unreachable!("d is a directory"),
        };
        assert!(
            shared(&fs, &clone),
            "the chunk was copied, d's entries were not"
        );
        mkdir(&mut clone, "d/e").unwrap();
        assert!(!shared(&fs, &clone));
        assert_eq!(fs.children("d"), Vec::new(), "the original's d stays empty");
        assert_eq!(clone.children("d").len(), 1);
    }

    fn build(fs: &mut ModelFs) {
        mkdir(fs, "a").unwrap();
        create(fs, "a/f", OpenFlags::CREATE_NEW).unwrap();
        fs.apply(&Op::Write {
            fd: 3,
            path: p("a/f"),
            blob: Blob::new(b"abc".to_vec()),
        })
        .unwrap();
        fs.apply(&Op::Close {
            fd: 3,
            path: p("a/f"),
        })
        .unwrap();
        create(fs, "a/g", OpenFlags::CREATE_NEW).unwrap();
        fs.apply(&Op::Rename {
            from: p("a/g"),
            to: p("a/f"),
        })
        .unwrap();
    }

    /// An unkeyed filesystem behaves the same and has no key to give; keyed
    /// again, its key is the one a keyed twin kept all along.
    #[test]
    fn an_unkeyed_filesystem_skips_the_key_and_gets_it_back_exactly() {
        let (mut keyed, mut unkeyed) = (ModelFs::new(), ModelFs::new());
        unkeyed.set_keyed(false);
        build(&mut keyed);
        build(&mut unkeyed);
        assert_eq!(Fs::state_key(&unkeyed), None);
        assert!(Fs::state_key(&keyed).is_some());
        assert_eq!(keyed.tree(), unkeyed.tree());
        assert_eq!(
            unkeyed.state_key(),
            keyed.state_key(),
            "computed from scratch"
        );
        unkeyed.set_keyed(true);
        assert_eq!(Fs::state_key(&unkeyed), Fs::state_key(&keyed));
        for fs in [&mut keyed, &mut unkeyed] {
            mkdir(fs, "b").unwrap();
        }
        assert_eq!(Fs::state_key(&unkeyed), Fs::state_key(&keyed));
        assert_eq!(keyed.state_key(), keyed.state_key_from_scratch());
    }

    /// Every op resolves as a walk from the root would, however the
    /// directories it names were cached before: after renames, removals
    /// and symlink replacements, through `.`, `..` and trailing slashes.
    #[test]
    fn cached_directories_never_outlive_the_entries_that_led_to_them() {
        let stat = |fs: &mut ModelFs, path: &str| {
            let cached = fs
                .apply(&Op::Stat { path: p(path) })
                .map(|v| format!("{v:?}"));
            let walked = fs
                .lookup(path, true)
                .map(|i| format!("{:?}", Value::Meta(fs.meta(i))));
            assert_eq!(cached, walked, "{path}");
            cached
        };
        let mut fs = ModelFs::new();
        for d in ["a", "a/b", "x", "y"] {
            mkdir(&mut fs, d).unwrap();
        }
        create(&mut fs, "a/b/f", OpenFlags::CREATE_NEW).unwrap();
        create(&mut fs, "y/g", OpenFlags::CREATE_NEW).unwrap();
        fs.apply(&Op::Symlink {
            target: p("x"),
            path: p("l"),
        })
        .unwrap();
        assert!(stat(&mut fs, "a/b/f").is_ok());
        assert!(stat(&mut fs, "a/b/./f").is_ok());
        assert!(stat(&mut fs, "a/b/../b/f").is_ok());
        assert_eq!(stat(&mut fs, "l/g"), Err(Errno::ENOENT));
        // The directory a/b is cached; moving a away must not leave it reachable.
        assert!(stat(&mut fs, "a/b/f").is_ok());
        fs.apply(&Op::Rename {
            from: p("a"),
            to: p("c"),
        })
        .unwrap();
        assert_eq!(stat(&mut fs, "a/b/f"), Err(Errno::ENOENT));
        assert!(stat(&mut fs, "c/b/f").is_ok());
        assert_eq!(
            fs.apply(&Op::Mkdir {
                path: p("a/b/h"),
                mode: 0o755
            }),
            Err(Errno::ENOENT)
        );
        // l led to x; replaced by a link to y, l/g is y's g.
        fs.apply(&Op::Symlink {
            target: p("y"),
            path: p("m"),
        })
        .unwrap();
        fs.apply(&Op::Rename {
            from: p("m"),
            to: p("l"),
        })
        .unwrap();
        assert!(stat(&mut fs, "l/g").is_ok());
        // Removing and recreating a directory gives the new one.
        fs.apply(&Op::Unlink { path: p("c/b/f") }).unwrap();
        fs.apply(&Op::Rmdir { path: p("c/b") }).unwrap();
        assert_eq!(stat(&mut fs, "c/b/f"), Err(Errno::ENOENT));
        mkdir(&mut fs, "c/b").unwrap();
        assert_eq!(stat(&mut fs, "c/b/f"), Err(Errno::ENOENT));
        create(&mut fs, "c/b/f", OpenFlags::CREATE_NEW).unwrap();
        assert!(stat(&mut fs, "c/b/f").is_ok());
        let _ = stat(&mut fs, "c/b/f/");
        assert_eq!(stat(&mut fs, "c/b/f/z"), Err(Errno::ENOTDIR));
        assert_eq!(fs.state_key(), fs.state_key_from_scratch());
    }

    #[test]
    fn the_state_key_follows_every_change_and_clones_do_not_share_changes() {
        let (mut one, mut two) = (ModelFs::new(), ModelFs::new());
        assert_eq!(one.state_key(), two.state_key());
        build(&mut one);
        build(&mut two);
        assert_eq!(one.state_key(), two.state_key(), "same ops, same key");
        assert_eq!(one.state_key(), one.state_key_from_scratch());
        assert_ne!(one.state_key(), ModelFs::new().state_key());

        let before = (one.state_key(), one.tree());
        let mut fork = one.clone();
        fork.apply(&Op::Chmod {
            path: p("a"),
            mode: 0o700,
        })
        .unwrap();
        assert_ne!(fork.state_key(), one.state_key(), "a mode is state");
        assert_eq!(fork.state_key(), fork.state_key_from_scratch());
        assert_eq!(
            (one.state_key(), one.tree()),
            before,
            "the original is untouched"
        );

        // The same state reached with other inode numbers has the same
        // key: no op reveals an inode number.
        let mut other = ModelFs::new();
        mkdir(&mut other, "b").unwrap();
        other.apply(&Op::Rmdir { path: p("b") }).unwrap();
        build(&mut other);
        assert_ne!(other.inode_of("a"), one.inode_of("a"));
        assert_eq!(other.state_key(), one.state_key());
        // A name made again after its first inode left is a new inode.
        let mut again = one.clone();
        again.apply(&Op::Unlink { path: p("a/f") }).unwrap();
        create(&mut again, "a/f", OpenFlags::CREATE_NEW).unwrap();
        again
            .apply(&Op::Close {
                fd: 3,
                path: p("a/f"),
            })
            .unwrap();
        assert_ne!(again.state_key(), one.state_key(), "a/f is empty now");
        assert_eq!(again.state_key(), again.state_key_from_scratch());
        // An open descriptor is state too.
        create(&mut two, "a/f", OpenFlags::READ).unwrap();
        assert_ne!(two.state_key(), one.state_key());
        assert_eq!(two.state_key(), two.state_key_from_scratch());
    }

    #[test]
    fn mkdir_reports_eexist_enoent_and_enotdir() {
        let mut fs = ModelFs::new();
        assert_eq!(mkdir(&mut fs, "a"), Ok(Value::Unit));
        assert_eq!(mkdir(&mut fs, "a"), Err(Errno::EEXIST));
        assert_eq!(mkdir(&mut fs, "x/y"), Err(Errno::ENOENT));
        assert!(matches!(
            create(&mut fs, "f", OpenFlags::CREATE_NEW),
            Ok(Value::Fd(3))
        ));
        assert_eq!(mkdir(&mut fs, "f"), Err(Errno::EEXIST));
        assert_eq!(mkdir(&mut fs, "f/y"), Err(Errno::ENOTDIR));
        assert_eq!(fs.tree().get("a").unwrap().mode, 0o755, "umask 022 applies");
    }

    #[test]
    fn open_excl_trunc_and_missing() {
        let mut fs = ModelFs::new();
        assert_eq!(
            create(&mut fs, "f", OpenFlags::CREATE_NEW),
            Ok(Value::Fd(3))
        );
        fs.apply(&Op::Write {
            fd: 3,
            path: p("f"),
            blob: Blob::new(b"abc".to_vec()),
        })
        .unwrap();
        assert_eq!(
            fs.apply(&Op::Close {
                fd: 3,
                path: p("f")
            }),
            Ok(Value::Unit)
        );
        assert_eq!(
            create(&mut fs, "f", OpenFlags::CREATE_NEW),
            Err(Errno::EEXIST)
        );
        assert_eq!(create(&mut fs, "g", OpenFlags::TRUNC), Err(Errno::ENOENT));
        assert_eq!(create(&mut fs, "f", OpenFlags::TRUNC), Ok(Value::Fd(3)));
        assert_eq!(
            fs.tree().get("f").unwrap().size,
            0,
            "O_TRUNC empties the file"
        );
        mkdir(&mut fs, "d").unwrap();
        assert_eq!(
            create(&mut fs, "d", OpenFlags::CREATE_TRUNC),
            Err(Errno::EISDIR)
        );
        assert_eq!(
            fs.apply(&Op::Close {
                fd: 9,
                path: p("f")
            }),
            Err(Errno::EBADF)
        );
    }

    #[test]
    fn rename_follows_posix_replace_rules() {
        let mut fs = ModelFs::new();
        for d in ["d1", "d2", "full", "full/x"] {
            mkdir(&mut fs, d).unwrap();
        }
        create(&mut fs, "f", OpenFlags::CREATE_NEW).unwrap();
        create(&mut fs, "g", OpenFlags::CREATE_NEW).unwrap();
        let rn = |fs: &mut ModelFs, a: &str, b: &str| {
            fs.apply(&Op::Rename {
                from: p(a),
                to: p(b),
            })
        };
        assert_eq!(rn(&mut fs, "f", "d1"), Err(Errno::EISDIR));
        assert_eq!(rn(&mut fs, "d1", "f"), Err(Errno::ENOTDIR));
        assert_eq!(rn(&mut fs, "d1", "full"), Err(Errno::ENOTEMPTY));
        assert_eq!(rn(&mut fs, "d1", "d1/sub"), Err(Errno::EINVAL));
        assert_eq!(rn(&mut fs, "nope", "z"), Err(Errno::ENOENT));
        assert_eq!(
            rn(&mut fs, "d1", "d2"),
            Ok(Value::Unit),
            "a dir replaces an empty dir"
        );
        assert_eq!(
            rn(&mut fs, "f", "g"),
            Ok(Value::Unit),
            "a file replaces a file atomically"
        );
        let t = fs.tree();
        assert!(t.get("f").is_none() && t.get("g").is_some() && t.get("d1").is_none());
    }

    #[test]
    fn unlink_rmdir_symlink_chmod_readdir() {
        let mut fs = ModelFs::new();
        mkdir(&mut fs, "d").unwrap();
        create(&mut fs, "d/f", OpenFlags::CREATE_NEW).unwrap();
        assert_eq!(fs.apply(&Op::Unlink { path: p("d") }), Err(Errno::EISDIR));
        assert_eq!(fs.apply(&Op::Rmdir { path: p("d") }), Err(Errno::ENOTEMPTY));
        assert_eq!(fs.apply(&Op::Rmdir { path: p("d/f") }), Err(Errno::ENOTDIR));
        assert_eq!(
            fs.apply(&Op::Symlink {
                target: p("d"),
                path: p("l")
            }),
            Ok(Value::Unit)
        );
        assert_eq!(
            fs.apply(&Op::Symlink {
                target: p("d"),
                path: p("l")
            }),
            Err(Errno::EEXIST)
        );
        assert_eq!(
            fs.apply(&Op::Readdir { path: p("l") }),
            Ok(Value::Names(vec!["f".into()]))
        );
        assert!(matches!(
            fs.apply(&Op::Lstat { path: p("l") }),
            Ok(Value::Meta(Meta {
                kind: Kind::Symlink,
                ..
            }))
        ));
        assert!(matches!(
            fs.apply(&Op::Stat { path: p("l") }),
            Ok(Value::Meta(Meta {
                kind: Kind::Dir,
                ..
            }))
        ));
        assert_eq!(
            fs.apply(&Op::Chmod {
                path: p("d/f"),
                mode: 0o600
            }),
            Ok(Value::Unit)
        );
        assert_eq!(fs.tree().get("d/f").unwrap().mode, 0o600);
        assert_eq!(fs.apply(&Op::Unlink { path: p("d/f") }), Ok(Value::Unit));
        assert_eq!(fs.apply(&Op::Rmdir { path: p("d") }), Ok(Value::Unit));
        assert_eq!(fs.apply(&Op::Unlink { path: p("d/f") }), Err(Errno::ENOENT));
    }

    #[test]
    fn symlinks_cannot_escape_the_root() {
        let mut fs = ModelFs::new();
        fs.apply(&Op::Symlink {
            target: p("/etc"),
            path: p("abs"),
        })
        .unwrap();
        fs.apply(&Op::Symlink {
            target: p("../.."),
            path: p("up"),
        })
        .unwrap();
        assert_eq!(
            create(&mut fs, "abs/passwd", OpenFlags::CREATE_TRUNC),
            Err(Errno::EXDEV)
        );
        assert_eq!(
            create(&mut fs, "up/x", OpenFlags::CREATE_TRUNC),
            Err(Errno::EXDEV)
        );
        fs.apply(&Op::Symlink {
            target: p("loop"),
            path: p("loop"),
        })
        .unwrap();
        assert_eq!(fs.apply(&Op::Stat { path: p("loop") }), Err(Errno::ELOOP));
    }

    #[test]
    fn read_sees_a_half_written_file() {
        let mut fs = ModelFs::new();
        create(&mut fs, "m.py", OpenFlags::CREATE_TRUNC).unwrap();
        let Ok(Value::Fd(r)) = fs.apply(&Op::Open {
            path: p("m.py"),
            flags: OpenFlags::READ,
            mode: 0,
        }) else {
            panic!()
        };
        assert_eq!(r, 4, "lowest free descriptor");
        match fs.apply(&Op::Read {
            fd: r,
            path: p("m.py"),
        }) {
            Ok(Value::Data(c)) => assert!(c.is_empty()),
            other => panic!("{other:?}"),
        }
    }

    /// Renaming over an entry counts the replaced entry as removed, the
    /// way unlinking it first does (`insert_child` replaces in place without
    /// allocating; the count must not be lost), and the next inode of that
    /// name is named apart from the first.
    #[test]
    fn renaming_over_an_entry_counts_it_removed_like_unlinking_it() {
        let rename = |fs: &mut ModelFs| {
            fs.apply(&Op::Rename {
                from: p("d/.t"),
                to: p("d/x"),
            })
            .unwrap()
        };
        let setup = || {
            let mut fs = ModelFs::new();
            mkdir(&mut fs, "d").unwrap();
            for path in ["d/x", "d/.t"] {
                let Ok(Value::Fd(fd)) = create(&mut fs, path, OpenFlags::CREATE_NEW) else {
                    panic!()
                };
                fs.apply(&Op::Close { fd, path: p(path) }).unwrap();
            }
            fs
        };
        let mut over = setup();
        rename(&mut over);
        let mut unlinked = setup();
        unlinked.apply(&Op::Unlink { path: p("d/x") }).unwrap();
        rename(&mut unlinked);
        assert_eq!(over.state_key(), unlinked.state_key());
        assert_eq!(over.state_key(), over.state_key_from_scratch());
        let mut kept = setup();
        kept.apply(&Op::Unlink { path: p("d/.t") }).unwrap();
        assert_ne!(
            over.state_key(),
            kept.state_key(),
            "d/x is another inode than the one it replaced"
        );
        // Both filesystems lost an `x` (replaced or unlinked) and a `.t`
        // (renamed away). Once `x` goes again, a new `x` is the third of
        // its name in both, and a new `.t` the second: named alike.
        for fs in [&mut over, &mut unlinked] {
            fs.apply(&Op::Unlink { path: p("d/x") }).unwrap();
            create(fs, "d/x", OpenFlags::CREATE_NEW).unwrap();
            create(fs, "d/.t", OpenFlags::CREATE_NEW).unwrap();
        }
        assert_eq!(over.state_key(), unlinked.state_key());
        assert_eq!(over.state_key(), over.state_key_from_scratch());
    }

    /// The cached directories never change what an op resolves to: after
    /// every op of a random sequence (creations, renames over files and
    /// directories, removals, symlinks, `..`, descriptors opened and
    /// closed), every path resolves through
    /// the cache (`apply`) exactly as a walk from the root does, listings
    /// come sorted, and the key kept incrementally is the key from scratch.
    mod cache_against_walks {
        use super::*;
        use proptest::prelude::*;

        const NAMES: [&str; 12] = [
            "a", "a/b", "a/b/c", "b", "b/c", "a/l", "l", "l/c", "a/b/../x", "b/c/d", "a-b", "a-b/c",
        ];

        fn op(kind: u8, x: usize, y: usize) -> Op {
            let (x, y) = (p(NAMES[x % NAMES.len()]), p(NAMES[y % NAMES.len()]));
            match kind % 10 {
                0 => Op::Mkdir {
                    path: x,
                    mode: 0o777,
                },
                1 => Op::Open {
                    path: x,
                    flags: OpenFlags::CREATE_TRUNC,
                    mode: 0o666,
                },
                2 | 3 => Op::Rename { from: x, to: y },
                4 => Op::Unlink { path: x },
                5 => Op::Rmdir { path: x },
                6 => Op::Symlink {
                    target: if y.len() % 2 == 0 { p("a") } else { p("../b") },
                    path: x,
                },
                // Descriptors (the descriptor table): the lowest free number
                // is handed out, and closing any of the first few frees it.
                8 => Op::Open {
                    path: x,
                    flags: OpenFlags::READ,
                    mode: 0,
                },
                9 => Op::Close {
                    fd: 3 + (y.len() % 4) as Fd,
                    path: x,
                },
                _ => Op::Chmod {
                    path: x,
                    mode: 0o700,
                },
            }
        }

        proptest! {
            #[test]
            fn every_op_resolves_as_a_walk_would(
                ops in proptest::collection::vec((0u8..10, 0usize..10, 0usize..10), 1..40)
            ) {
                let mut fs = ModelFs::new();
                for (kind, x, y) in ops {
                    let _ = fs.apply(&op(kind, x, y));
                    for path in NAMES {
                        for follow in [false, true] {
                            let walked = fs.lookup(path, follow).map(|i| fs.meta(i));
                            let asked = if follow {
                                Op::Stat { path: p(path) }
                            } else {
                                Op::Lstat { path: p(path) }
                            };
                            let cached = fs.apply(&asked).map(|v| match v {
                                Value::Meta(m) => m,
                                other => panic!("{other:?}"),
                            });
                            prop_assert_eq!(cached, walked, "{} (follow {})", path, follow);
                        }
                        if let Ok(Value::Names(names)) = fs.apply(&Op::Readdir { path: p(path) }) {
                            let mut sorted = names.clone();
                            sorted.sort();
                            prop_assert_eq!(names, sorted);
                        }
                    }
                    prop_assert_eq!(fs.state_key(), fs.state_key_from_scratch());
                    prop_assert_eq!(fs.listing(), listed_by_walking(&fs));
                }
            }
        }
    }

    /// Every entry with its path, found by listing each directory by name
    /// and sorted afterwards: what [`ModelFs::listing`] must list, in order.
    fn listed_by_walking(fs: &ModelFs) -> Vec<(String, Entry)> {
        let mut out = Vec::new();
        let mut dirs = vec![String::new()];
        while let Some(dir) = dirs.pop() {
            for (name, ino) in fs.children(&dir) {
                let path = if dir.is_empty() {
                    name
                } else {
                    format!("{dir}/{name}")
                };
                if matches!(fs.inodes[ino].node, Node::Dir(_)) {
                    dirs.push(path.clone());
                }
                out.push((path, fs.entry(ino)));
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// Names that sort before `/` (`-`, `.`) put a sibling between a
    /// directory and what it holds: the listing follows the paths' order.
    /// A keyless filesystem gives every op the result a keyed one gives
    /// and ends in the same tree, keeping no count of removed names.
    #[test]
    fn a_keyless_filesystem_behaves_the_same_and_keeps_nothing_for_the_key() {
        let (mut keyed, mut keyless) = (ModelFs::new(), ModelFs::new());
        keyless.set_keyless();
        let ops = [
            Op::Mkdir {
                path: p("d"),
                mode: 0o755,
            },
            Op::Open {
                path: p("d/.f.tmp"),
                flags: OpenFlags::CREATE_NEW,
                mode: 0o600,
            },
            Op::Rename {
                from: p("d/.f.tmp"),
                to: p("d/f"),
            },
            Op::Open {
                path: p("d/.f.tmp"),
                flags: OpenFlags::CREATE_NEW,
                mode: 0o600,
            },
            Op::Rename {
                from: p("d/.f.tmp"),
                to: p("d/f"),
            },
            Op::Unlink { path: p("d/f") },
            Op::Stat { path: p("d/f") },
            Op::Readdir { path: p("d") },
        ];
        for op in &ops {
            assert_eq!(keyless.apply(op), keyed.apply(op), "{op}");
        }
        assert_eq!(keyless.tree(), keyed.tree());
        assert_eq!(Fs::state_key(&keyless), None);
        let counts = |fs: &ModelFs| match &fs.inodes[fs.lookup("d", true).unwrap()].node {
            Node::Dir(dir) => dir.removed.len(),
            _ => unreachable!("d is a directory"),
        };
        assert_eq!(counts(&keyed), 2, "both names were removed from d");
        assert_eq!(counts(&keyless), 0, "nothing kept for the key");
    }

    #[test]
    #[should_panic(expected = "a keyless filesystem has no key")]
    fn a_keyless_filesystem_refuses_to_give_a_key() {
        let mut fs = ModelFs::new();
        fs.set_keyless();
        fs.state_key();
    }

    #[test]
    fn a_state_equal_to_the_expected_tree_takes_that_tree_and_any_other_its_own() {
        let mut fs = ModelFs::new();
        for dir in ["a", "a/c", "a-b"] {
            mkdir(&mut fs, dir).unwrap();
        }
        for file in ["a/c/x", "a-", "a/c.h"] {
            create(&mut fs, file, OpenFlags::CREATE_NEW).unwrap();
        }
        fs.apply(&Op::Symlink {
            target: p("a"),
            path: p("a/l"),
        })
        .unwrap();
        let expected = fs.tree();
        let taken = fs.tree_like(&expected);
        assert!(
            taken.shares_entries(&expected),
            "equal: the expected tree itself"
        );
        // Each way a state can differ: an entry more, one fewer, a mode, a
        // content, a symlink's target, a kind.
        let changes: Vec<Vec<Op>> = vec![
            vec![Op::Mkdir {
                path: p("a/c/y"),
                mode: 0o755,
            }],
            vec![Op::Unlink { path: p("a-") }],
            vec![Op::Chmod {
                path: p("a/c.h"),
                mode: 0o600,
            }],
            vec![
                Op::Open {
                    path: p("a/c/x"),
                    flags: OpenFlags::TRUNC,
                    mode: 0,
                },
                Op::Write {
                    fd: 3,
                    path: p("a/c/x"),
                    blob: Blob::new(b"z".to_vec()),
                },
            ],
            vec![
                Op::Unlink { path: p("a/l") },
                Op::Symlink {
                    target: p("a-b"),
                    path: p("a/l"),
                },
            ],
            vec![
                Op::Rmdir { path: p("a-b") },
                Op::Open {
                    path: p("a-b"),
                    flags: OpenFlags::CREATE_NEW,
                    mode: 0o755,
                },
            ],
        ];
        for ops in changes {
            let mut changed = fs.clone();
            for op in &ops {
                changed.apply(op).unwrap();
            }
            let own = changed.tree();
            assert_ne!(own, expected, "{ops:?}");
            let taken = changed.tree_like(&expected);
            assert!(!taken.shares_entries(&expected), "{ops:?}");
            assert_eq!(taken, own, "{ops:?}");
        }
    }

    #[test]
    fn the_listing_comes_in_the_byte_order_of_the_paths() {
        let mut fs = ModelFs::new();
        for dir in ["a", "a/c", "a-b", "a.d", "a0", "a-b/e", "a/c/f", "a/c-g"] {
            mkdir(&mut fs, dir).unwrap();
        }
        for file in ["a/c/f/x", "a/c/f-y", "a-b/e/z", "a-", "a/c.h"] {
            create(&mut fs, file, OpenFlags::CREATE_NEW).unwrap();
        }
        fs.apply(&Op::Symlink {
            target: p("a"),
            path: p("a/c/l"),
        })
        .unwrap();
        let paths: Vec<String> = fs.listing().into_iter().map(|(p, _)| p).collect();
        let mut sorted = paths.clone();
        sorted.sort();
        assert_eq!(paths, sorted);
        assert_eq!(paths.len(), 14);
        assert_eq!(fs.listing(), listed_by_walking(&fs));
        assert_eq!(
            fs.tree().iter().map(|(p, _)| p.clone()).collect::<Vec<_>>(),
            paths
        );
    }
}
