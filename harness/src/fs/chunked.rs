//! A vector that clones in O(len / 64): elements live in shared chunks,
//! copied on their first change.
//!
//! The model filesystem keeps its inodes here. Every execution starts from
//! a clone of a prepared filesystem (the initial prefix) and changes a few
//! dozen inodes of thousands, so a clone shares everything and a change
//! copies one chunk of pointers and one inode.

use std::ops::Index;
use std::sync::Arc;

/// Elements per chunk.
const CHUNK: usize = 64;

/// A copy-on-write vector in chunks of [`CHUNK`] shared elements.
#[derive(Debug)]
pub struct Chunked<T> {
    chunks: Vec<Arc<Vec<Arc<T>>>>,
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
        Arc::make_mut(last).push(Arc::new(value));
        self.len += 1;
    }

    /// Element `i`, to change: its chunk and itself are copied first when
    /// another clone shares them.
    pub fn make_mut(&mut self, i: usize) -> &mut T {
        assert!(i < self.len, "index {i} out of {}", self.len);
        let chunk = Arc::make_mut(&mut self.chunks[i / CHUNK]);
        Arc::make_mut(&mut chunk[i % CHUNK])
    }

    /// The elements in order.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.chunks.iter().flat_map(|c| c.iter().map(|e| &**e))
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
}
