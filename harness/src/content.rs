//! File contents: immutable [`Blob`]s and the [`Content`] of a file built from them.
//!
//! A blob's digest is the SHA-256 of its bytes, so the model filesystem and the
//! real one compute the same digest for the same file. Payload bytes are made
//! deterministically from a recorded digest and size ([`Blob::synthetic`]).
//! Bytecode blobs ([`Blob::bytecode`]) embed the digest of the source they were
//! compiled from, so the oracle can judge a `.pyc` the way CPython does.

use std::fmt;
use std::sync::Arc;

use sha2::{Digest as _, Sha256};

/// A SHA-256 digest.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest(pub [u8; 32]);

impl Digest {
    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Digest {
        Digest(Sha256::digest(bytes).into())
    }

    /// Lowercase hex of the whole digest.
    pub fn hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The first 12 hex digits, for reports.
    pub fn short(&self) -> String {
        self.hex()[..12].to_string()
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({})", self.short())
    }
}

/// The magic prefix of a model `.pyc`: it marks bytes as bytecode compiled by the model.
pub const PYC_MAGIC: &[u8; 8] = b"PRPYC\x01\r\n";

/// Immutable bytes with their digest.
pub struct Blob {
    bytes: Box<[u8]>,
    digest: Digest,
}

impl Blob {
    /// A blob holding exactly `bytes`.
    pub fn new(bytes: impl Into<Box<[u8]>>) -> Arc<Blob> {
        let bytes = bytes.into();
        let digest = Digest::of(&bytes);
        Arc::new(Blob { bytes, digest })
    }

    /// Deterministic stand-in bytes for a recorded file of `size` bytes whose
    /// recorded hash is `seed` (for example the RECORD's sha256 field).
    pub fn synthetic(seed: &[u8], size: u64) -> Arc<Blob> {
        let mut state = Digest::of(seed).0;
        let mut out = Vec::with_capacity(size as usize);
        let mut counter: u64 = 0;
        while (out.len() as u64) < size {
            let mut h = Sha256::new();
            h.update(state);
            h.update(counter.to_le_bytes());
            let block: [u8; 32] = h.finalize().into();
            let need = (size as usize - out.len()).min(32);
            out.extend_from_slice(&block[..need]);
            counter += 1;
            if counter % 1024 == 0 {
                state = block;
            }
        }
        Blob::new(out)
    }

    /// The bytecode CPython would produce for source bytes with digest `source`.
    pub fn bytecode(source: &Digest) -> Arc<Blob> {
        let mut bytes = Vec::with_capacity(40);
        bytes.extend_from_slice(PYC_MAGIC);
        bytes.extend_from_slice(&source.0);
        Blob::new(bytes)
    }

    /// The bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Length in bytes.
    pub fn len(&self) -> u64 {
        self.bytes.len() as u64
    }

    /// True for an empty blob.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The digest of the bytes.
    pub fn digest(&self) -> Digest {
        self.digest
    }

    /// The first 12 hex digits of the digest.
    pub fn short_digest(&self) -> String {
        self.digest.short()
    }
}

impl PartialEq for Blob {
    fn eq(&self, other: &Self) -> bool {
        self.digest == other.digest && self.bytes.len() == other.bytes.len()
    }
}

impl Eq for Blob {}

impl std::hash::Hash for Blob {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // What equality compares: the digest and the length.
        state.write(&self.digest.0[..16]);
        state.write_usize(self.bytes.len());
    }
}

impl fmt::Debug for Blob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Blob({}, {} bytes)",
            self.digest.short(),
            self.bytes.len()
        )
    }
}

/// If `bytes` are a model `.pyc`, the digest of the source it was compiled from.
pub fn bytecode_source(bytes: &[u8]) -> Option<Digest> {
    if bytes.len() == PYC_MAGIC.len() + 32 && bytes.starts_with(PYC_MAGIC) {
        let mut d = [0u8; 32];
        d.copy_from_slice(&bytes[PYC_MAGIC.len()..]);
        Some(Digest(d))
    } else {
        None
    }
}

/// The content of a file: a sequence of blobs written one after another.
///
/// Almost every file is empty or a single blob; longer sequences appear only
/// when writers interleave, and then the digest is computed over the bytes.
#[derive(Clone, Default)]
pub struct Content {
    chunks: Blobs,
}

/// A content's blobs: none or one inline, more on the heap. A file's
/// content is made for every file an execution writes, and a vector of
/// one blob was an allocation (and a free) each.
#[derive(Clone, Default)]
enum Blobs {
    #[default]
    None,
    One(Arc<Blob>),
    Many(Vec<Arc<Blob>>),
}

impl Blobs {
    fn as_slice(&self) -> &[Arc<Blob>] {
        match self {
            Blobs::None => &[],
            Blobs::One(blob) => std::slice::from_ref(blob),
            Blobs::Many(blobs) => blobs,
        }
    }

    fn push(&mut self, blob: Arc<Blob>) {
        match std::mem::take(self) {
            Blobs::None => *self = Blobs::One(blob),
            Blobs::One(first) => *self = Blobs::Many(vec![first, blob]),
            Blobs::Many(mut blobs) => {
                blobs.push(blob);
                *self = Blobs::Many(blobs);
            }
        }
    }
}

impl Content {
    /// Empty content.
    pub fn empty() -> Content {
        Content::default()
    }

    /// Content made of one blob.
    pub fn from_blob(blob: Arc<Blob>) -> Content {
        Content {
            chunks: Blobs::One(blob),
        }
    }

    /// Appends a blob.
    pub fn push(&mut self, blob: Arc<Blob>) {
        if !blob.is_empty() {
            self.chunks.push(blob);
        }
    }

    /// Total length in bytes.
    pub fn len(&self) -> u64 {
        self.chunks.as_slice().iter().map(|c| c.len()).sum()
    }

    /// True when the content is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The SHA-256 of the bytes.
    pub fn digest(&self) -> Digest {
        match self.chunks.as_slice() {
            [one] => one.digest(),
            chunks => {
                let mut h = Sha256::new();
                for c in chunks {
                    h.update(c.bytes());
                }
                Digest(h.finalize().into())
            }
        }
    }

    /// The bytes, concatenated.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len() as usize);
        for c in self.chunks.as_slice() {
            out.extend_from_slice(c.bytes());
        }
        out
    }

    /// The content from byte `offset` to the end.
    pub fn slice_from(&self, offset: u64) -> Content {
        if offset == 0 {
            return self.clone();
        }
        let bytes = self.to_bytes();
        let start = (offset as usize).min(bytes.len());
        Content::from_blob(Blob::new(bytes[start..].to_vec()))
    }

    /// Feeds the content to `state` blob by blob (each blob's digest and
    /// length), without concatenating: cheap, and equal for equal chunkings.
    /// Two contents with the same bytes in different chunks hash differently,
    /// which is why this is not [`std::hash::Hash`] (equality is by bytes).
    pub fn hash_chunks<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_usize(self.chunks.as_slice().len());
        for c in self.chunks.as_slice() {
            state.write(&c.digest().0[..16]);
            state.write_u64(c.len());
        }
    }

    /// If this content is a model `.pyc`, the digest of its source.
    pub fn bytecode_source(&self) -> Option<Digest> {
        match self.chunks.as_slice() {
            [one] => bytecode_source(one.bytes()),
            _ => bytecode_source(&self.to_bytes()),
        }
    }
}

impl PartialEq for Content {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.digest() == other.digest()
    }
}

impl Eq for Content {}

impl fmt::Debug for Content {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Content({}, {} bytes)",
            self.digest().short(),
            self.len()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_blobs_are_deterministic_and_sized() {
        let a = Blob::synthetic(b"abc", 1000);
        let b = Blob::synthetic(b"abc", 1000);
        let c = Blob::synthetic(b"abd", 1000);
        assert_eq!(a.len(), 1000);
        assert_eq!(a.digest(), b.digest());
        assert_ne!(a.digest(), c.digest());
    }

    #[test]
    fn content_digest_is_the_digest_of_the_concatenated_bytes() {
        let mut c = Content::empty();
        c.push(Blob::new(b"hello ".to_vec()));
        c.push(Blob::new(b"world".to_vec()));
        assert_eq!(c.digest(), Digest::of(b"hello world"));
        assert_eq!(Content::empty().digest(), Digest::of(b""));
    }

    /// Blobs kept inline (none or one) and on the heap (more) read back as
    /// the blobs pushed, in order, with empty ones left out.
    #[test]
    fn content_keeps_the_blobs_pushed_in_order() {
        use std::hash::Hasher;
        let blobs: Vec<Arc<Blob>> = (0..5u8).map(|i| Blob::new(vec![i; i as usize])).collect();
        for n in 0..blobs.len() {
            let mut c = Content::empty();
            for b in &blobs[..=n] {
                c.push(b.clone());
            }
            let kept: Vec<&[u8]> = c.chunks.as_slice().iter().map(|b| b.bytes()).collect();
            let expected: Vec<&[u8]> = blobs[1..=n].iter().map(|b| b.bytes()).collect();
            assert_eq!(kept, expected, "{n}");
            assert_eq!(c.len(), (0..=n as u64).sum::<u64>());
            assert_eq!(c.to_bytes(), expected.concat());
            let mut h1 = crate::state_key::StateHasher::default();
            c.hash_chunks(&mut h1);
            let mut h2 = crate::state_key::StateHasher::default();
            h2.write_usize(expected.len());
            for b in &blobs[1..=n] {
                h2.write(&b.digest().0[..16]);
                h2.write_u64(b.len());
            }
            assert_eq!(h1.finish128(), h2.finish128());
        }
    }

    #[test]
    fn bytecode_records_its_source() {
        let src = Digest::of(b"print(1)");
        let pyc = Blob::bytecode(&src);
        assert_eq!(bytecode_source(pyc.bytes()), Some(src));
        assert_eq!(bytecode_source(b"not a pyc"), None);
    }
}
