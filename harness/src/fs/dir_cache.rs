//! Directories the model resolved, by the path that named them.
//!
//! Installers work one directory at a time: cp opens, writes and chmods
//! every file of a directory through the same directory path, pip the same.
//! Walking that path again for every op (a map look-up per component) is
//! most of what an op costs. A resolved directory stays where it is until
//! an entry that leads to a directory or a symlink is removed or replaced
//! somewhere (a new entry cannot change where an existing path leads, and a
//! resolved path goes through no entry that leads to a file), so the model
//! forgets every cached directory then ([`DirCache::forget_all`]). Installers
//! that write through temporary names and rename them over their targets
//! replace file entries all the time; that forgets nothing.
//!
//! Every resolved path is kept (up to [`CAPACITY`], then all are forgotten
//! and the cache fills again): parallel installers interleave ops in many
//! directories at once (two pips, each with its parents' `makedirs` and
//! its `__pycache__`), and a cache of the last few paths missed often
//! enough that its walks were a tenth of what an op cost.

use std::collections::HashMap;

use super::model::Ino;
use crate::fast_hash::Fast;

/// How many paths are kept at most; a filesystem resolves a few hundred
/// distinct directories in an execution.
const CAPACITY: usize = 4096;

/// Resolved directory paths, each with the directory inode it led to.
///
/// A clone starts empty: executions clone a prepared filesystem, and
/// copying every kept path (an allocation each) would cost more than
/// resolving again the few each execution uses.
#[derive(Debug, Default)]
pub struct DirCache {
    dirs: HashMap<Box<str>, Ino, Fast>,
}

impl Clone for DirCache {
    fn clone(&self) -> Self {
        DirCache::default()
    }
}

impl DirCache {
    /// The directory `path` led to, if it is kept.
    pub fn get(&self, path: &str) -> Option<Ino> {
        self.dirs.get(path).copied()
    }

    /// Keeps that `path` leads to the directory `ino`.
    pub fn put(&mut self, path: &str, ino: Ino) {
        if self.dirs.len() >= CAPACITY {
            self.dirs.clear();
        }
        self.dirs.insert(path.into(), ino);
    }

    /// Forgets every path: an entry leading to a directory or a symlink was
    /// removed or replaced.
    pub fn forget_all(&mut self) {
        if !self.dirs.is_empty() {
            self.dirs.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn keeps_every_path_until_it_forgets_them_all_at_once() {
        let mut cache = DirCache::default();
        for (i, p) in ["a", "a/b", "c", "d", "e"].iter().enumerate() {
            cache.put(p, i);
        }
        assert_eq!(cache.get("a"), Some(0), "no path made room for another");
        assert_eq!(cache.get("a/b"), Some(1));
        assert_eq!(cache.get("e"), Some(4));
        assert_eq!(cache.get("a/b/"), None, "only the exact path");
        cache.put("a", 7);
        assert_eq!(cache.get("a"), Some(7), "the latest directory of a path");
        assert_eq!(cache.clone().get("a"), None, "a clone starts empty");
        assert_eq!(cache.get("a"), Some(7), "the original keeps its paths");
        cache.forget_all();
        assert_eq!(cache.get("e"), None);
        assert_eq!(cache.get("a"), None);
    }

    /// Against a map that keeps everything: the cache never answers with
    /// another directory than the last one put for a path, answers for
    /// every path put since it last forgot, and forgets them all when full.
    #[test]
    fn answers_like_a_map_of_the_paths_put_since_it_last_forgot() {
        let mut cache = DirCache::default();
        let mut reference: BTreeMap<String, Ino> = BTreeMap::new();
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for step in 0..40_000usize {
            let r = next();
            // Few enough paths that gets hit, more than CAPACITY in all.
            let path = format!("d{}/e{}", r % 97, (r >> 8) % 61);
            match (r >> 20) % 16 {
                // Forgets now and then in the first half; the second
                // half fills the cache past its capacity.
                0 if step < 20_000 && (r >> 24) % 64 == 0 => {
                    cache.forget_all();
                    reference.clear();
                }
                0..=6 => {
                    if reference.len() >= CAPACITY {
                        reference.clear();
                    }
                    cache.put(&path, step);
                    reference.insert(path, step);
                }
                _ => assert_eq!(cache.get(&path), reference.get(&path).copied(), "{path}"),
            }
        }
        assert!(!reference.is_empty());
    }
}
