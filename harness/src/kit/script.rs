//! A script: an installer written as a list of the kit's primitives.

use std::sync::Arc;

use super::{Action, LockKind, RemoveStyle, Scripted, SymlinkHow, TmpName, WriteHow};
use crate::content::Blob;
use crate::fs::parent_of;

/// An installer as a list of primitives, in order, run by
/// [`crate::job::ScriptJob`]. The first failing step ends it with exit 1
/// and the line the program prints ([`super::Voice`]).
///
/// ```
/// use prefixrace::kit::{RemoveStyle, Script, WriteHow};
///
/// // pnpm before PR 10896: import into a temporary directory, remove the
/// // target, rename the import into place.
/// let pnpm = Script::new("pnpm")
///     .write_tree("node_modules/.tmp-a", &[("index.js", b"1".as_slice())], WriteHow::InPlace)
///     .remove("node_modules/is-positive", RemoveStyle::Rimraf)
///     .rename("node_modules/.tmp-a", "node_modules/is-positive");
/// assert_eq!(pnpm.steps.len(), 4);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Script {
    /// The program the script stands for; its voice words the failures.
    pub program: String,
    /// The steps, in order.
    pub steps: Vec<Scripted>,
}

impl Script {
    /// An empty script of `program`.
    pub fn new(program: &str) -> Script {
        Script {
            program: program.to_string(),
            steps: Vec::new(),
        }
    }

    /// Appends a primitive.
    pub fn then(mut self, action: Action) -> Script {
        self.steps.push(Scripted {
            action,
            message: None,
            ignore_errors: false,
        });
        self
    }

    /// Gives the last step the tool's own message for its failure (see
    /// [`super::Voice::say`]).
    pub fn saying(mut self, message: &str) -> Script {
        if let Some(last) = self.steps.last_mut() {
            last.message = Some(message.into());
        }
        self
    }

    /// Makes the last step's failure ignored: the installer goes on.
    pub fn ignoring_errors(mut self) -> Script {
        if let Some(last) = self.steps.last_mut() {
            last.ignore_errors = true;
        }
        self
    }

    /// `os.makedirs(dir, exist_ok=True)`.
    pub fn makedirs(self, dir: &str) -> Script {
        self.then(Action::Makedirs { dir: dir.into() })
    }

    /// A strict `mkdir(dir)`.
    pub fn mkdir(self, dir: &str) -> Script {
        self.then(Action::Mkdir { dir: dir.into() })
    }

    /// pypa/installer's `exists` check and `Path.mkdir(parents=True,
    /// exist_ok=True)`.
    pub fn ensure_dir(self, dir: &str) -> Script {
        self.then(Action::EnsureDir { dir: dir.into() })
    }

    /// Rust's `fs::create_dir_all(dir)`.
    pub fn create_dir_all(self, dir: &str) -> Script {
        self.then(Action::CreateDirAll { dir: dir.into() })
    }

    /// `stat(path)`, whatever it finds.
    pub fn probe(self, path: &str) -> Script {
        self.then(Action::Probe { path: path.into() })
    }

    /// Fails when `path` exists (pypa/installer's `File already exists`).
    pub fn fail_if_exists(self, path: &str) -> Script {
        self.then(Action::FailIfExists { path: path.into() })
    }

    /// `chmod(path, mode)`.
    pub fn chmod(self, path: &str, mode: u32) -> Script {
        self.then(Action::Chmod {
            path: path.into(),
            mode,
        })
    }

    /// Writes one file.
    pub fn write(self, path: &str, content: &[u8], how: WriteHow) -> Script {
        self.then(Action::Write {
            path: path.into(),
            content: Blob::new(content.to_vec()),
            how,
        })
    }

    /// Writes one file through a temporary name renamed over it.
    pub fn write_atomic(self, path: &str, content: &[u8], tmp: TmpName) -> Script {
        self.write(path, content, WriteHow::Atomic(tmp))
    }

    /// Writes `files` (relative to `dir`) under `dir`, making each
    /// directory first, as an extractor does.
    pub fn write_tree(mut self, dir: &str, files: &[(&str, &[u8])], how: WriteHow) -> Script {
        let mut made: Vec<String> = Vec::new();
        for (name, content) in files {
            let path = format!("{dir}/{name}");
            let parent = parent_of(&path).to_string();
            if !made.contains(&parent) {
                self = self.makedirs(&parent);
                made.push(parent);
            }
            self = self.write(&path, content, how);
        }
        self
    }

    /// Removes a tree.
    pub fn remove(self, path: &str, style: RemoveStyle) -> Script {
        self.then(Action::Remove {
            path: path.into(),
            style,
        })
    }

    /// `rename(from, to)`.
    pub fn rename(self, from: &str, to: &str) -> Script {
        self.then(Action::Rename {
            from: from.into(),
            to: to.into(),
            missing_ok: false,
        })
    }

    /// Moves `from` to `to` as npm does ([`super::MoveFile`]); with
    /// `replace_existing` (npm 11.7 and later) an occupied destination is
    /// removed and the move tried again.
    pub fn move_file(self, from: &str, to: &str, replace_existing: bool) -> Script {
        self.then(Action::MoveFile {
            from: from.into(),
            to: to.into(),
            replace_existing,
        })
    }

    /// Moves an installed directory aside as pip's uninstall does
    /// ([`super::StashDir`]).
    pub fn stash(self, dir: &str) -> Script {
        self.then(Action::Stash { dir: dir.into() })
    }

    /// Swaps the tree `new` in over `target` ([`super::SwapIn`]).
    pub fn swap_in(self, new: &str, target: &str) -> Script {
        self.then(Action::SwapIn {
            new: new.into(),
            target: target.into(),
        })
    }

    /// Swaps the tree `new` in over `target` by `RENAME_EXCHANGE`
    /// ([`super::ExchangeIn`]).
    pub fn exchange_in(self, new: &str, target: &str) -> Script {
        self.then(Action::ExchangeIn {
            new: new.into(),
            target: target.into(),
        })
    }

    /// Puts `link -> target` in place.
    pub fn symlink(self, target: &str, link: &str, how: SymlinkHow) -> Script {
        self.then(Action::Symlink {
            target: target.into(),
            link: link.into(),
            how,
        })
    }

    /// Takes an advisory lock.
    pub fn lock(self, path: &str, kind: LockKind) -> Script {
        self.then(Action::Lock {
            path: path.into(),
            kind,
        })
    }

    /// Releases an advisory lock.
    pub fn unlock(self, path: &str, kind: LockKind) -> Script {
        self.then(Action::Unlock {
            path: path.into(),
            kind,
        })
    }

    /// Ends the installer successfully when `marker` exists.
    pub fn skip_if_exists(self, marker: &str) -> Script {
        self.then(Action::SkipIfExists {
            path: marker.into(),
        })
    }

    /// Blocks until `marker` exists.
    pub fn wait_for(self, marker: &str) -> Script {
        self.then(Action::WaitFor {
            path: marker.into(),
        })
    }

    /// Hard-links `store` to `target` ([`super::LinkFromStore`]), an
    /// existing target replaced through `tmp_dir`.
    pub fn link_from_store(self, store: &str, target: &str, tmp_dir: &str) -> Script {
        self.then(Action::LinkFromStore {
            store: store.into(),
            target: target.into(),
            tmp_dir: tmp_dir.into(),
        })
    }

    /// Reads a file whole.
    pub fn read(self, path: &str) -> Script {
        self.then(Action::Read { path: path.into() })
    }

    /// From here on, `path` is removed (errors ignored) whenever the
    /// script ends: a `tempfile::TempDir` in scope (see
    /// [`super::CleanupMark`]).
    pub fn cleanup(self, path: &str) -> Script {
        self.then(Action::Cleanup { path: path.into() })
    }

    /// `TempDir::keep`: `path` is no longer removed when the script ends.
    pub fn keep(self, path: &str) -> Script {
        self.then(Action::Keep { path: path.into() })
    }

    /// The script, shared between executions.
    pub fn shared(self) -> Arc<Script> {
        Arc::new(self)
    }
}
