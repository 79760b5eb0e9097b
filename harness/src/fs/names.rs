//! A directory's entries by name, each name hashed once per op.
//!
//! An op looks its final name up, then removes, inserts or replaces the
//! entry of that name (a create looks the name up and then links it; a
//! rename looks both names up, then removes one and inserts the other).
//! A map keyed by strings hashes the name again for every one of those
//! calls. Here the caller hashes a name once ([`Name::new`]) and hands the
//! hashed name to every call, and each entry keeps its hash, so growing a
//! table hashes nothing and a probe compares hashes before bytes.
//!
//! An entry made by an op holds its name as a part of the op's own path
//! ([`Name::in_path`], [`HeldName`]): a reference count more on a string
//! the job keeps anyway, instead of a new allocation per created name (and
//! its free when the filesystem is dropped), which was a tenth of what an
//! execution of two long installers cost.
//!
//! The order of the entries is the table's: everything that lists them
//! sorts first.

use std::hash::BuildHasher;
use std::sync::Arc;

use hashbrown::HashTable;

use crate::fast_hash::Fast;

/// A name and its hash, computed once and handed to every look-up.
#[derive(Debug, Clone, Copy)]
pub struct Name<'a> {
    text: &'a str,
    hash: u64,
    /// The string `text` lies in, when a table may share it.
    within: Option<&'a Arc<str>>,
}

impl<'a> Name<'a> {
    /// `text` with its hash; a table that keeps it copies it.
    pub fn new(text: &'a str) -> Name<'a> {
        Name {
            text,
            hash: Fast::default().hash_one(text),
            within: None,
        }
    }

    /// `text`, a part of `path` (an op's final name, split off its path),
    /// with its hash; a table that keeps it shares `path` instead of
    /// copying it. A `text` that does not lie in `path` is copied.
    pub fn in_path(path: &'a Arc<str>, text: &'a str) -> Name<'a> {
        Name {
            within: Some(path),
            ..Name::new(text)
        }
    }

    /// The name itself.
    pub fn as_str(&self) -> &'a str {
        self.text
    }

    /// The name as a table keeps it: a part of the path it came with when
    /// it lies there, else a copy.
    fn held(&self) -> HeldName {
        if let Some(path) = self.within {
            let base = path.as_ptr() as usize;
            let at = (self.text.as_ptr() as usize).wrapping_sub(base);
            if at <= path.len() && self.text.len() <= path.len() - at {
                if let (Ok(start), Ok(len)) = (u32::try_from(at), u32::try_from(self.text.len())) {
                    return HeldName {
                        text: path.clone(),
                        start,
                        len,
                    };
                }
            }
        }
        HeldName::copy(self.text)
    }
}

/// A name a table keeps: bytes `start..start + len` of a shared string
/// (an op's path, or a copy of the name alone).
#[derive(Debug, Clone)]
pub struct HeldName {
    text: Arc<str>,
    start: u32,
    len: u32,
}

impl HeldName {
    /// A copy of `text`, held alone.
    fn copy(text: &str) -> HeldName {
        HeldName {
            text: text.into(),
            start: 0,
            len: text.len() as u32,
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        let start = self.start as usize;
        &self.text[start..start + self.len as usize]
    }

    /// True when the name is `text`: compared as bytes, without the
    /// character-boundary checks that slicing the string out as a `str`
    /// makes at every probe.
    fn is(&self, text: &str) -> bool {
        let start = self.start as usize;
        self.text.as_bytes().get(start..start + self.len as usize) == Some(text.as_bytes())
    }
}

/// One entry: its name's hash, the name, and what it holds.
#[derive(Debug, Clone)]
struct Slot<V> {
    hash: u64,
    name: HeldName,
    value: V,
}

/// Entries by name, never listed in any order that matters without sorting.
#[derive(Debug, Clone)]
pub struct Names<V> {
    table: HashTable<Slot<V>>,
}

impl<V> Default for Names<V> {
    fn default() -> Self {
        Names {
            table: HashTable::new(),
        }
    }
}

/// A probe's test: the same hash, then the same bytes.
fn is<V>(name: Name<'_>) -> impl Fn(&Slot<V>) -> bool + '_ {
    move |slot| slot.hash == name.hash && slot.name.is(name.text)
}

impl<V> Names<V> {
    /// What `name` holds.
    pub fn get(&self, name: Name<'_>) -> Option<&V> {
        self.table.find(name.hash, is(name)).map(|slot| &slot.value)
    }

    /// What `name` holds, to change.
    pub fn get_mut(&mut self, name: Name<'_>) -> Option<&mut V> {
        self.table
            .find_mut(name.hash, is(name))
            .map(|slot| &mut slot.value)
    }

    /// The copy of `name` the map holds, to share it.
    pub fn held_name(&self, name: Name<'_>) -> Option<HeldName> {
        self.table
            .find(name.hash, is(name))
            .map(|slot| slot.name.clone())
    }

    /// Adds `name` with `value`, held as the name says ([`Name::in_path`]:
    /// shared with its path); the map must not hold `name` yet.
    pub fn insert_new(&mut self, name: Name<'_>, value: V) {
        self.insert_held(name, name.held(), value);
    }

    /// Adds `name` (held as `held`, the same text) with `value`; the map
    /// must not hold `name` yet.
    pub fn insert_held(&mut self, name: Name<'_>, held: HeldName, value: V) {
        debug_assert!(self.get(name).is_none(), "{} is held already", name.text);
        debug_assert_eq!(held.as_str(), name.text);
        let slot = Slot {
            hash: name.hash,
            name: held,
            value,
        };
        self.table.insert_unique(name.hash, slot, |slot| slot.hash);
    }

    /// Takes `name` out: the map's copy of it and what it held.
    pub fn remove(&mut self, name: Name<'_>) -> Option<(HeldName, V)> {
        let entry = self.table.find_entry(name.hash, is(name)).ok()?;
        let (slot, _) = entry.remove();
        Some((slot.name, slot.value))
    }

    /// How many names it holds.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// True when it holds no name.
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// Every name with what it holds, in no meaningful order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &V)> {
        self.table
            .iter()
            .map(|slot| (slot.name.as_str(), &slot.value))
    }

    /// What every name holds, in no meaningful order.
    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.table.iter().map(|slot| &slot.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// Against a `BTreeMap`, over random inserts, replacements and
    /// removals of names that share most of their bytes: every look-up,
    /// removal and the full listing agree.
    #[test]
    fn answers_like_a_map_of_strings() {
        let mut names: Names<usize> = Names::default();
        let mut reference: BTreeMap<String, usize> = BTreeMap::new();
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for step in 0..20_000usize {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let text = format!("__pycache__-{}.pyc", seed % 300);
            let name = Name::new(&text);
            match (seed >> 20) % 4 {
                0 | 1 => match names.get_mut(name) {
                    Some(value) => *value = step,
                    None => names.insert_new(name, step),
                },
                2 => {
                    let removed = names
                        .remove(name)
                        .map(|(held, v)| (held.as_str().to_string(), v));
                    assert_eq!(removed, reference.remove_entry(&text), "{text}");
                    continue;
                }
                _ => {}
            }
            if (seed >> 20) % 4 < 2 {
                reference.insert(text.clone(), step);
            }
            assert_eq!(names.get(name), reference.get(&text), "{text}");
            assert_eq!(
                names.held_name(name).map(|held| held.as_str().to_string()),
                reference.contains_key(&text).then(|| text.clone())
            );
        }
        let mut listed: Vec<(String, usize)> =
            names.iter().map(|(n, v)| (n.to_string(), *v)).collect();
        listed.sort();
        let expected: Vec<(String, usize)> = reference.into_iter().collect();
        assert_eq!(listed, expected);
        assert_eq!(names.len(), expected.len());
        assert_eq!(names.values().count(), expected.len());
    }

    /// Names whose hashes agree still differ by their bytes: a probe that
    /// trusted the hash alone would answer for the wrong name.
    #[test]
    fn a_name_with_the_same_hash_is_not_the_same_name() {
        let mut names: Names<u32> = Names::default();
        let a = Name::new("a");
        let forged = Name {
            text: "b",
            hash: a.hash,
            within: None,
        };
        names.insert_new(a, 1);
        assert_eq!(names.get(forged), None);
        assert!(names.remove(forged).is_none());
        names.insert_new(forged, 2);
        assert_eq!(names.get(a), Some(&1));
        assert_eq!(names.get(forged), Some(&2));
        assert!(!names.is_empty());
    }

    /// A name held in a path is exactly its own bytes there: neither a
    /// part of them nor they with a neighbour's.
    #[test]
    fn a_held_name_is_its_own_bytes_only() {
        let path: Arc<str> = Arc::from("lib/site/pkg/mod.py");
        let held = Name::in_path(&path, &path[9..12]).held();
        assert_eq!(held.as_str(), "pkg");
        assert!(held.is("pkg"));
        for other in ["pk", "kg", "pkg/", "/pkg", "site/pkg", "", "pkh"] {
            assert!(!held.is(other), "{other:?}");
        }
        assert!(HeldName::copy("").is(""));
    }

    /// A name split off an op's path is kept as a part of that path (one
    /// reference more, no copy), and reads back as itself wherever it
    /// lies in the path; a name that does not lie in the path it came
    /// with is copied.
    #[test]
    fn a_name_in_a_path_shares_the_path() {
        let path: Arc<str> = Arc::from("lib/site/pkg/mod.py/");
        let mut names: Names<u32> = Names::default();
        let last = &path[13..19];
        assert_eq!(last, "mod.py");
        names.insert_new(Name::in_path(&path, last), 1);
        assert_eq!(Arc::strong_count(&path), 2, "shared, not copied");
        let first = &path[..3];
        names.insert_new(Name::in_path(&path, first), 2);
        assert_eq!(Arc::strong_count(&path), 3);
        let elsewhere = String::from("other");
        names.insert_new(Name::in_path(&path, &elsewhere), 3);
        assert_eq!(
            Arc::strong_count(&path),
            3,
            "a name outside the path is copied"
        );
        let mut listed: Vec<(String, u32)> =
            names.iter().map(|(n, v)| (n.to_string(), *v)).collect();
        listed.sort();
        assert_eq!(
            listed,
            [
                ("lib".to_string(), 2),
                ("mod.py".to_string(), 1),
                ("other".to_string(), 3)
            ]
        );
        assert_eq!(names.get(Name::new("mod.py")), Some(&1));
        let (held, value) = names.remove(Name::new("mod.py")).expect("held");
        assert_eq!((held.as_str(), value), ("mod.py", 1));
        drop(held);
        assert_eq!(Arc::strong_count(&path), 2);
    }
}
