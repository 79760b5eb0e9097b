//! Directories the model resolved lately, by the path that named them.
//!
//! Installers work one directory at a time: cp opens, writes and chmods
//! every file of a directory through the same directory path, pip the same.
//! Walking that path again for every op (a `BTreeMap` look-up per component)
//! is most of what an op costs. A resolved directory stays where it is until
//! an entry that leads to a directory or a symlink is removed or replaced
//! somewhere (a new entry cannot change where an existing path leads, and a
//! resolved path goes through no entry that leads to a file), so the model
//! forgets every cached directory then ([`DirCache::forget_all`]). Installers
//! that write through temporary names and rename them over their targets
//! replace file entries all the time; that forgets nothing.

use super::model::Ino;

/// How many directories are kept: one per concurrently active directory
/// (a copy's source and destination, an importer's package).
const SLOTS: usize = 4;

/// A few resolved directory paths, each with the directory inode it led to.
#[derive(Debug, Clone, Default)]
pub struct DirCache {
    slots: [(String, Option<Ino>); SLOTS],
    /// The slot the next new path takes.
    next: usize,
}

impl DirCache {
    /// The directory `path` led to, if it is kept.
    pub fn get(&self, path: &str) -> Option<Ino> {
        self.slots
            .iter()
            .find(|(p, ino)| ino.is_some() && p == path)
            .and_then(|(_, ino)| *ino)
    }

    /// Keeps that `path` leads to the directory `ino`, in place of the
    /// oldest path kept.
    pub fn put(&mut self, path: &str, ino: Ino) {
        let (p, slot) = &mut self.slots[self.next];
        p.clear();
        p.push_str(path);
        *slot = Some(ino);
        self.next = (self.next + 1) % SLOTS;
    }

    /// Forgets every path: an entry leading to a directory or a symlink was
    /// removed or replaced.
    pub fn forget_all(&mut self) {
        for (_, ino) in &mut self.slots {
            *ino = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_latest_paths_and_forgets_them_all_at_once() {
        let mut cache = DirCache::default();
        for (i, p) in ["a", "a/b", "c", "d", "e"].iter().enumerate() {
            cache.put(p, i);
        }
        assert_eq!(cache.get("a"), None, "the oldest path made room");
        assert_eq!(cache.get("a/b"), Some(1));
        assert_eq!(cache.get("e"), Some(4));
        assert_eq!(cache.get("a/b/"), None, "only the exact path");
        cache.forget_all();
        assert_eq!(cache.get("e"), None);
    }
}
