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
//!
//! In front of the map sit the last few paths answered ([`RECENT`]), each
//! in a buffer of its own: two interleaved installers mostly come back to
//! the directory they just used, and comparing a path with a few held ones
//! costs less than hashing it and probing the map.

use std::collections::HashMap;

use super::model::Ino;
use crate::fast_hash::Fast;

/// How many paths are kept at most; a filesystem resolves a few hundred
/// distinct directories in an execution.
const CAPACITY: usize = 4096;

/// How many of the last paths answered are compared before the map.
const RECENT: usize = 4;

/// Resolved directory paths, each with the directory inode it led to.
///
/// A clone starts empty: executions clone a prepared filesystem, and
/// copying every kept path (an allocation each) would cost more than
/// resolving again the few each execution uses.
#[derive(Debug, Default)]
pub struct DirCache {
    dirs: HashMap<Box<str>, Ino, Fast>,
    /// The last paths answered or put, most recent first; the first
    /// `recent_len` hold one. Their buffers are reused, never freed.
    recent: [(String, Ino); RECENT],
    recent_len: usize,
}

impl Clone for DirCache {
    fn clone(&self) -> Self {
        DirCache::default()
    }
}

impl DirCache {
    /// The directory `path` led to, if it is kept.
    pub fn get(&mut self, path: &str) -> Option<Ino> {
        for i in 0..self.recent_len {
            if self.recent[i].0 == path {
                let ino = self.recent[i].1;
                self.bring_first(i);
                return Some(ino);
            }
        }
        let ino = self.dirs.get(path).copied()?;
        self.remember(path, ino);
        Some(ino)
    }

    /// Keeps that `path` leads to the directory `ino`.
    pub fn put(&mut self, path: &str, ino: Ino) {
        if self.dirs.len() >= CAPACITY {
            self.forget_all();
        }
        self.dirs.insert(path.into(), ino);
        // Held first, it shadows any older copy of `path` further back.
        self.remember(path, ino);
    }

    /// Forgets every path: an entry leading to a directory or a symlink was
    /// removed or replaced.
    pub fn forget_all(&mut self) {
        if !self.dirs.is_empty() {
            self.dirs.clear();
        }
        self.recent_len = 0;
    }

    /// Moves recent path `i` first, the ones before it one place back:
    /// `rotate_right(1)` of the first `i + 1`, by swaps. The slice's
    /// general rotation cost about 65 instructions a call for these one to
    /// four slots, a third of what a look-up cost.
    fn bring_first(&mut self, i: usize) {
        for k in (0..i).rev() {
            self.recent.swap(k, k + 1);
        }
    }

    /// Puts `path` first among the recent paths, in the buffer of the
    /// least recent one (the one dropped when all are taken).
    fn remember(&mut self, path: &str, ino: Ino) {
        self.recent_len = (self.recent_len + 1).min(RECENT);
        self.bring_first(self.recent_len - 1);
        let (held, held_ino) = &mut self.recent[0];
        held.clear();
        held.push_str(path);
        *held_ino = ino;
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

    /// With fewer paths than the map holds and a few more than the recent
    /// slots: answers come from the recent slots most of the time, and
    /// must still be the last put since the last forgetting.
    #[test]
    fn recent_paths_answer_as_the_map_does() {
        let mut cache = DirCache::default();
        let mut reference: BTreeMap<String, Ino> = BTreeMap::new();
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for step in 0..20_000usize {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let path = format!("lib/d{}", seed % (RECENT as u64 + 2));
            match (seed >> 16) % 32 {
                0 => {
                    cache.forget_all();
                    reference.clear();
                }
                1..=8 => {
                    cache.put(&path, step);
                    reference.insert(path, step);
                }
                _ => assert_eq!(cache.get(&path), reference.get(&path).copied(), "{path}"),
            }
        }
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
