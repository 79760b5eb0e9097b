//! A vector that clones in O(len / 64): elements live in shared chunks,
//! copied on their first change.
//!
//! The model filesystem keeps its inodes here. Every execution starts from
//! a clone of a prepared filesystem (the initial prefix) and changes a few
//! dozen inodes of thousands, so a clone shares everything and a change
//! copies one chunk.
//!
//! The elements live inline in their chunk (an arena): pushing one is a
//! move into the chunk's buffer, not an allocation of its own, and
//! dropping a filesystem frees one buffer per chunk instead of one per
//! element. An execution makes about one inode per eight ops, and their
//! allocations and frees were a tenth of what its filesystem cost. The
//! price is on the first change of a shared chunk, which clones all its
//! elements: the model keeps what is costly to clone in an inode (a
//! directory's entries) behind an `Arc` of its own, so such a copy is a
//! reference count per element, as the chunk of pointers it replaces was.

use std::ops::Index;
use std::sync::Arc;

/// Elements per chunk.
const CHUNK: usize = 64;

/// A copy-on-write vector in shared chunks of [`CHUNK`] elements each.
#[derive(Debug)]
pub struct Chunked<T> {
    chunks: Vec<Arc<Vec<T>>>,
    len: usize,
}

impl<T> Clone for Chunked<T> {
    fn clone(&self) -> Self {
        Chunked {
            chunks: self.chunks.clone(),
            len: self.len,
        }
    }
}

impl<T> Default for Chunked<T> {
    fn default() -> Self {
        Chunked {
            chunks: Vec::new(),
            len: 0,
        }
    }
}

impl<T: Clone> Chunked<T> {
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Appends `value`.
    pub fn push(&mut self, value: T) {
        if self.len % CHUNK == 0 {
            self.chunks.push(Arc::new(Vec::with_capacity(CHUNK)));
        }
        let last = self.chunks.last_mut().expect("a chunk was just ensured");
        if Arc::get_mut(last).is_none() {
            // Shared with a clone: copied at its full capacity, since it
            // is about to grow (a plain clone would be exactly full).
            let mut copy = Vec::with_capacity(CHUNK);
            copy.extend(last.iter().cloned());
            *last = Arc::new(copy);
        }
        Arc::get_mut(last)
            .expect("the chunk is this clone's own")
            .push(value);
        self.len += 1;
    }

    /// Element `i`, to change: its chunk (every element in it) is copied
    /// first when another clone shares it.
    pub fn make_mut(&mut self, i: usize) -> &mut T {
        assert!(i < self.len, "index {i} out of {}", self.len);
        &mut Arc::make_mut(&mut self.chunks[i / CHUNK])[i % CHUNK]
    }

    /// The elements in order.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.chunks.iter().flat_map(|c| c.iter())
    }
}

impl<T> Index<usize> for Chunked<T> {
    type Output = T;

    fn index(&self, i: usize) -> &T {
        assert!(i < self.len, "index {i} out of {}", self.len);
        &self.chunks[i / CHUNK][i % CHUNK]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_until_changed() {
        let mut a = Chunked::default();
        for i in 0..200u32 {
            a.push(i);
        }
        let mut b = a.clone();
        *b.make_mut(130) = 7;
        b.push(1000);
        assert_eq!(a[130], 130, "the original keeps its value");
        assert_eq!(b[130], 7);
        assert_eq!((a.len(), b.len()), (200, 201));
        assert_eq!(b.iter().copied().last(), Some(1000));
        assert_eq!(
            a.iter().copied().collect::<Vec<_>>(),
            (0..200).collect::<Vec<_>>()
        );
        // Only the changed chunk was copied.
        assert!(Arc::ptr_eq(&a.chunks[0], &b.chunks[0]));
        assert!(!Arc::ptr_eq(&a.chunks[2], &b.chunks[2]));
    }

    /// The elements of a chunk lie side by side in its one buffer (an
    /// arena): pushing one allocates nothing of its own.
    #[test]
    fn the_elements_of_a_chunk_lie_side_by_side() {
        let mut a = Chunked::default();
        for i in 0..2 * CHUNK as u64 {
            a.push(i);
        }
        for i in 1..a.len() {
            let (before, at) = (&a[i - 1] as *const u64, &a[i] as *const u64);
            assert_eq!(at == before.wrapping_add(1), i % CHUNK != 0, "element {i}");
        }
    }
}
