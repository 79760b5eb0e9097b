//! The host directories of the live [`RealFs`](super::RealFs) instances. A
//! run stopped by a signal never runs their `TempDir` drops, so the signal
//! watcher of `explore --fs real` and `replay --fs real` removes every root
//! listed here before the process exits.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Mutex;

static LIVE: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());

fn live() -> std::sync::MutexGuard<'static, BTreeSet<PathBuf>> {
    LIVE.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Creates a root with `create` and lists it, under one lock: a watcher that
/// removes the roots sees either no directory or a listed one.
pub fn create<T>(create: impl FnOnce() -> std::io::Result<(T, PathBuf)>) -> std::io::Result<T> {
    let mut live = live();
    let (value, path) = create()?;
    live.insert(path);
    Ok(value)
}

/// Removes the root `dir` and takes it off the list, under the lock: a
/// watcher that exits meanwhile finds it listed or gone, never half removed.
pub fn remove(dir: tempfile::TempDir) {
    let mut live = live();
    let path = dir.path().to_path_buf();
    let _ = dir.close();
    live.remove(&path);
}

/// Removes every listed root and exits with `code`, holding the list so that
/// no new root is made meanwhile.
///
/// Workers may still be writing into a root while it is removed, so one
/// `remove_dir_all` can fail with `ENOTEMPTY`; each root is retried until it
/// is gone. Once a root directory itself is removed, nothing can be created
/// under it any more (its entries are reached through its descriptor, and a
/// deleted directory accepts no new entries), so this converges.
pub fn remove_all_and_exit(code: i32) -> ! {
    let live = live();
    for path in live.iter() {
        remove_until_gone(path);
    }
    std::process::exit(code)
}

/// Removes `path` and everything under it, retrying while concurrent writers
/// refill it, for at most a few seconds.
fn remove_until_gone(path: &std::path::Path) {
    for _ in 0..1000 {
        match std::fs::remove_dir_all(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound && path.exists() => {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            _ => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_root_is_listed_while_it_lives() {
        let dir = create(|| {
            let d = tempfile::tempdir()?;
            let p = d.path().to_path_buf();
            Ok((d, p))
        })
        .unwrap();
        let path = dir.path().to_path_buf();
        assert!(live().contains(&path));
        remove(dir);
        assert!(!live().contains(&path));
        assert!(!path.exists());
    }
}
