//! Byte offset to line number, for error locations. Built once per input
//! file (one pass over its bytes), then each look-up is a binary search:
//! counting the newlines before every entry's offset anew made loading a
//! scenario of n entries quadratic (issue 16: 20,000 RECORD lines took 35 s
//! through `record record-file --scenario`).

/// The offsets of the newlines of one source text.
#[derive(Debug)]
pub(crate) struct LineIndex {
    newlines: Vec<usize>,
    len: usize,
}

impl LineIndex {
    /// Indexes the newlines of `src`.
    pub fn new(src: &str) -> Self {
        LineIndex {
            newlines: src
                .bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i)
                .collect(),
            len: src.len(),
        }
    }

    /// The 1-based line of byte offset `offset` (an offset past the end is
    /// on the last line).
    pub fn line(&self, offset: usize) -> usize {
        let offset = offset.min(self.len);
        1 + self.newlines.partition_point(|&n| n < offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The line of every offset of a text, by counting (the old way).
    fn counted(src: &str, offset: usize) -> usize {
        1 + src.as_bytes()[..offset.min(src.len())]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
    }

    #[test]
    fn every_offset_gets_the_line_counting_would_give() {
        for src in ["", "a", "\n", "a\nb", "a\n\nb\n", "\n\n\nxyz\n", "é\nü\n"] {
            let index = LineIndex::new(src);
            for offset in 0..=src.len() + 2 {
                assert_eq!(
                    index.line(offset),
                    counted(src, offset),
                    "{src:?} at {offset}"
                );
            }
        }
    }

    #[test]
    fn a_newline_belongs_to_the_line_it_ends() {
        let index = LineIndex::new("ab\ncd\n");
        assert_eq!(index.line(2), 1);
        assert_eq!(index.line(3), 2);
        assert_eq!(index.line(6), 3);
    }
}
