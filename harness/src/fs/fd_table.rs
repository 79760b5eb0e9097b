//! The model's open descriptors, indexed by number.
//!
//! Installers hold one or two descriptors at a time and open the lowest free
//! number, as the kernel does. A vector indexed by descriptor number finds
//! one, and the lowest free one, without the tree walk of a `BTreeMap`.

use crate::op::Fd;

/// The lowest descriptor number handed out (0–2 are stdin, stdout, stderr).
const FIRST: Fd = 3;

/// Open descriptors by number, each with its state `T`.
#[derive(Debug, Clone)]
pub struct FdTable<T> {
    /// Slot `fd` holds descriptor `fd`, when it is open.
    slots: Vec<Option<T>>,
    /// How many slots are open.
    open: usize,
}

impl<T> Default for FdTable<T> {
    fn default() -> Self {
        FdTable {
            slots: Vec::new(),
            open: 0,
        }
    }
}

impl<T> FdTable<T> {
    /// True when no descriptor is open.
    pub fn is_empty(&self) -> bool {
        self.open == 0
    }

    /// The lowest number at least 3 that is not open.
    pub fn lowest_free(&self) -> Fd {
        let first = FIRST as usize;
        let free = self
            .slots
            .iter()
            .skip(first)
            .position(Option::is_none)
            .map_or(self.slots.len().max(first), |i| first + i);
        free as Fd
    }

    /// Descriptor `fd`, when open.
    pub fn get(&self, fd: Fd) -> Option<&T> {
        self.slots.get(fd as usize).and_then(Option::as_ref)
    }

    /// Descriptor `fd`, to change, when open.
    pub fn get_mut(&mut self, fd: Fd) -> Option<&mut T> {
        self.slots.get_mut(fd as usize).and_then(Option::as_mut)
    }

    /// Opens `fd` as `value`; returns what `fd` was before, if it was open.
    pub fn insert(&mut self, fd: Fd, value: T) -> Option<T> {
        let i = fd as usize;
        if self.slots.len() <= i {
            self.slots.resize_with(i + 1, || None);
        }
        let old = self.slots[i].replace(value);
        if old.is_none() {
            self.open += 1;
        }
        old
    }

    /// Closes `fd`; returns it, if it was open.
    pub fn remove(&mut self, fd: Fd) -> Option<T> {
        let old = self.slots.get_mut(fd as usize)?.take();
        if old.is_some() {
            self.open -= 1;
        }
        old
    }

    /// The open descriptors, by ascending number.
    pub fn iter(&self) -> impl Iterator<Item = (Fd, &T)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(fd, slot)| slot.as_ref().map(|v| (fd as Fd, v)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// Against a `BTreeMap` and the kernel's lowest-free rule, over a
    /// fixed pseudo-random sequence of opens and closes (including
    /// descriptors never opened and reopening an open one).
    #[test]
    fn agrees_with_a_map_and_hands_out_the_lowest_free_number() {
        let mut table = FdTable::default();
        let mut map: BTreeMap<Fd, u32> = BTreeMap::new();
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for step in 0..5_000u32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let fd = 3 + (x % 9) as Fd;
            if x & 0x300 == 0 {
                assert_eq!(table.remove(fd), map.remove(&fd), "close {fd} at {step}");
            } else if x & 0x300 == 0x100 {
                let free = (3..).find(|f| !map.contains_key(f)).expect("a free fd");
                assert_eq!(table.lowest_free(), free, "at {step}");
                assert_eq!(table.insert(free, step), map.insert(free, step));
            } else {
                assert_eq!(table.insert(fd, step), map.insert(fd, step), "at {step}");
            }
            if let Some(v) = table.get_mut(fd) {
                *v += 1;
                *map.get_mut(&fd).expect("open in both") += 1;
            }
            assert_eq!(table.get(fd), map.get(&fd));
            assert_eq!(table.is_empty(), map.is_empty());
            let listed: Vec<(Fd, u32)> = table.iter().map(|(f, v)| (f, *v)).collect();
            let expected: Vec<(Fd, u32)> = map.iter().map(|(f, v)| (*f, *v)).collect();
            assert_eq!(listed, expected, "at {step}");
        }
        assert_eq!(FdTable::<u32>::default().lowest_free(), 3);
    }
}
