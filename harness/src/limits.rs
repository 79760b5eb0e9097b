//! Every limit on input, stated once. Each is checked before the memory or
//! time it bounds is spent, and an input over a limit is refused with one
//! line naming the file and field (exit 2). `docs/hardening.md` has the
//! table.

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Largest single file a scenario may declare (256 MiB); also the largest
/// recorded write and the largest file of a recorded tree.
pub const MAX_FILE_SIZE: u64 = 256 << 20;
/// Largest total payload of one package (1 GiB); also the most one
/// recorded process (strace log or trace job) may write.
pub const MAX_PACKAGE_SIZE: u64 = 1 << 30;
/// Largest total payload of a whole scenario, every package and every
/// `[[initial]]` one together (1 GiB): the model holds it all in memory.
pub const MAX_SCENARIO_SIZE: u64 = 1 << 30;
/// Most entries (files, directories, symlinks) a whole scenario may declare.
pub const MAX_SCENARIO_ENTRIES: usize = 1_000_000;
/// Largest input file read whole: a scenario, RECORD, payload manifest,
/// wheel member, merge report or strace log, after decompression (256 MiB).
pub const MAX_INPUT_FILE: u64 = 256 << 20;
/// Deepest PCT bug depth `pct:DEPTH` accepts. PCT's guarantee shrinks
/// exponentially with depth; beyond a few it finds nothing random does not.
pub const MAX_PCT_DEPTH: usize = 64;
/// Most worker threads `--jobs` accepts.
pub const MAX_WORKER_THREADS: usize = 1024;
/// Longest name of one path component, in bytes (Linux `NAME_MAX`): a
/// longer one is `ENAMETOOLONG` where it is looked up, on the model as on
/// the kernel (`fs/name_limits.rs`).
pub const NAME_MAX: usize = 255;
/// Bytes of a path argument, its terminating NUL included (Linux
/// `PATH_MAX`): a path of this many bytes or more is `ENAMETOOLONG` before
/// anything is looked up. Bounds the depth of a path too (at most 2,048
/// components).
pub const PATH_MAX: usize = 4096;
/// Bytes of a symlink's target, NUL included: `symlink(2)` copies it like
/// any path argument, so a target of [`PATH_MAX`] bytes or more is
/// `ENAMETOOLONG` (and an empty one `ENOENT`).
pub const SYMLINK_TARGET_MAX: usize = PATH_MAX;

/// Reads the regular file at `path` whole, refusing anything else (a FIFO,
/// which would block, a device such as `/dev/zero`, which never ends, a
/// directory) before reading a byte, and any file longer than `limit`.
pub fn read_regular(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    let file = open_regular(path)?;
    let meta = file.metadata()?;
    if meta.len() > limit {
        return Err(too_large(limit));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(too_large(limit));
    }
    Ok(bytes)
}

/// Opens `path` for reading if it is a regular file, and refuses anything
/// else without blocking: a FIFO (whose open would wait for a writer), a
/// device, a directory, a socket.
pub fn open_regular(path: &Path) -> io::Result<File> {
    let file = File::options()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::other(format!(
            "not a regular file ({})",
            kind_of(&meta.file_type())
        )));
    }
    Ok(file)
}

/// Reads an input file named on the command line or by a scenario: a
/// regular file of at most [`MAX_INPUT_FILE`] bytes (see [`read_regular`]).
pub fn read_input(path: &Path) -> io::Result<Vec<u8>> {
    read_regular(path, MAX_INPUT_FILE)
}

/// Reads `reader` whole (a decompressor, a zip member) but no more than
/// `limit` bytes: one more is an error, so a bomb stops at `limit + 1`.
pub fn read_bounded(reader: impl Read, limit: u64) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    reader.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(too_large(limit));
    }
    Ok(bytes)
}

/// The error of a read that went past its limit.
#[derive(Debug)]
struct TooLarge(u64);

impl std::fmt::Display for TooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "larger than the limit of {} bytes", self.0)
    }
}

impl std::error::Error for TooLarge {}

fn too_large(limit: u64) -> io::Error {
    io::Error::other(TooLarge(limit))
}

/// True when `err` is a read refused for going past its limit (not an
/// i/o or decompression error).
pub fn is_too_large(err: &io::Error) -> bool {
    err.get_ref().is_some_and(|e| e.is::<TooLarge>())
}

fn kind_of(t: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("f");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let err = read_regular(&fifo, 10).unwrap_err();
        assert_eq!(err.to_string(), "not a regular file (a FIFO)");
    }

    #[test]
    fn devices_and_directories_are_refused() {
        let err = read_regular(Path::new("/dev/zero"), 10).unwrap_err();
        assert_eq!(err.to_string(), "not a regular file (a character device)");
        let dir = tempfile::tempdir().unwrap();
        let err = read_regular(dir.path(), 10).unwrap_err();
        assert_eq!(err.to_string(), "not a regular file (a directory)");
    }

    #[test]
    fn a_file_is_read_up_to_its_limit_and_refused_past_it() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("f");
        std::fs::write(&f, b"0123456789").unwrap();
        assert_eq!(read_regular(&f, 10).unwrap(), b"0123456789");
        let err = read_regular(&f, 9).unwrap_err();
        assert_eq!(err.to_string(), "larger than the limit of 9 bytes");
    }

    #[test]
    fn a_bounded_read_stops_one_byte_past_the_limit() {
        let endless = std::io::repeat(b'x');
        let err = read_bounded(endless, 1000).unwrap_err();
        assert_eq!(err.to_string(), "larger than the limit of 1000 bytes");
        assert!(is_too_large(&err));
        assert!(!is_too_large(&io::Error::other("corrupt deflate stream")));
        assert_eq!(read_bounded(&b"abc"[..], 3).unwrap(), b"abc");
    }
}
