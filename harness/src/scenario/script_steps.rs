//! The steps of a `kind = "script"` activity: the kit's primitives as
//! inline tables.
//!
//! ```toml
//! [[activity]]
//! name = "pnpm-a"
//! kind = "script"
//! program = "pnpm"                 # words the failures: see kit::Voice
//! steps = [
//!   { do = "write-tree", dir = "node_modules/.tmp-a", files = ["index.js", "package.json"] },
//!   { do = "remove", path = "node_modules/is-positive", style = "rimraf" },
//!   { do = "rename", from = "node_modules/.tmp-a", to = "node_modules/is-positive" },
//! ]
//! ```
//!
//! Every step has `do`, an optional `message` (the tool's own line for
//! its failure) and an optional `ignore-errors = true` (the tool goes on
//! after a failure of this step). The others, by `do`:
//! - `makedirs` / `mkdir` / `ensure-dir` (pypa/installer's pathlib
//!   `mkdir(parents=True, exist_ok=True)` after an `exists` check) /
//!   `mkdir-recursive` (Node's `fs.mkdir(dir, {recursive: true})` and
//!   Rust's `create_dir_all`: `mkdir` first, `stat` on EEXIST): `dir`;
//! - `chmod`: `path`, `mode` (an integer, `0o755`);
//! - `write`: `path`, `text` (default: bytes standing for the file at
//!   `version`), `version`, `how` (`in-place`, `exclusive`, `atomic`),
//!   `tmp` (`unique` or `shared`, for `atomic`);
//! - `write-tree`: `dir`, `files` (paths under `dir`), `version`, `how`, `tmp`;
//! - `remove`: `path`, `style` (`rm-rf`, `rmtree`, `rimraf`, `node-rm`);
//! - `rename`: `from`, `to`, `missing-ok`;
//! - `move-file`: `from`, `to`, `replace-existing` (npm's move: the
//!   parent made first, once more on ENOENT; npm 11.7 and later remove an
//!   occupied destination and move again);
//! - `stash`: `dir` (pip's uninstall: moved aside to a `~`-named sibling);
//! - `swap-in`: `new`, `target` (rename aside, rename in, remove the old;
//!   again when another process put a target in meanwhile);
//! - `exchange-in`: `new`, `target` (`renameat2(RENAME_EXCHANGE)`, then the
//!   old tree removed; a plain rename when there is no target yet);
//! - `link-from-store`: `store`, `target`, `tmp-dir` (a hard link from a
//!   content store; an existing target replaced by a link made in
//!   `tmp-dir` and renamed over it, as uv does);
//! - `symlink`: `target`, `link`, `how` (`create`, `unlink-then-create`,
//!   `temp-then-rename`);
//! - `lock` / `unlock`: `path`, `kind` (`mkdir`, `exclusive-file`, `ineffective`);
//! - `skip-if-exists` / `fail-if-exists` / `wait-for` / `read`: `path`;
//! - `cleanup` / `keep`: `path` (a temporary tree, as a Rust `TempDir`:
//!   from `cleanup` until `keep`, it is removed, errors ignored, whenever
//!   the script ends; no syscall of their own).
//!
//! Paths are relative to the prefix and may not leave it; a symlink's
//! target may not point outside it either.

use std::collections::BTreeMap;

use toml::Value;

use crate::content::Blob;
use crate::error::{Error, Result};
use crate::fs::{normalize_relative, parent_of};
use crate::kit::{LockKind, RemoveStyle, Script, SymlinkHow, TmpName, WriteHow};

/// The most steps one script may have, and files one `write-tree` may write.
pub const MAX_SCRIPT_STEPS: usize = 100_000;

/// Where a step came from, for errors.
struct At<'a> {
    file: &'a str,
    line: usize,
    index: usize,
}

impl At<'_> {
    fn error(&self, key: &str, message: impl Into<String>) -> Error {
        Error::input(
            self.file,
            self.line,
            format!("steps[{}].{key}", self.index),
            message,
        )
    }
}

/// One step's keys, each taken once; what is left over is an error.
struct Keys<'a> {
    at: At<'a>,
    table: BTreeMap<String, Value>,
}

impl Keys<'_> {
    fn take_str(&mut self, key: &str) -> Result<Option<String>> {
        match self.table.remove(key) {
            None => Ok(None),
            Some(Value::String(s)) => match s.chars().find(|c| c.is_control()) {
                Some(c) => Err(self
                    .at
                    .error(key, format!("{s:?} holds the control character {c:?}"))),
                None => Ok(Some(s)),
            },
            Some(other) => Err(self.at.error(
                key,
                format!("expected a string, found {}", other.type_str()),
            )),
        }
    }

    /// File contents: any string, newlines and tabs included.
    fn take_text(&mut self, key: &str) -> Result<Option<String>> {
        match self.table.remove(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(self.at.error(
                key,
                format!("expected a string, found {}", other.type_str()),
            )),
        }
    }

    fn need_str(&mut self, key: &str) -> Result<String> {
        self.take_str(key)?
            .ok_or_else(|| self.at.error(key, "missing"))
    }

    /// A path under the prefix, normalized; never outside it.
    fn path(&mut self, key: &str) -> Result<String> {
        let raw = self.need_str(key)?;
        normalize_relative("", &raw).map_err(|e| self.at.error(key, e.to_string()))
    }

    fn flag(&mut self, key: &str) -> Result<bool> {
        match self.table.remove(key) {
            None => Ok(false),
            Some(Value::Boolean(b)) => Ok(b),
            Some(other) => Err(self.at.error(
                key,
                format!("expected true or false, found {}", other.type_str()),
            )),
        }
    }

    fn choice<T: Copy>(&mut self, key: &str, default: T, options: &[(&str, T)]) -> Result<T> {
        let Some(given) = self.take_str(key)? else {
            return Ok(default);
        };
        options
            .iter()
            .find(|(name, _)| *name == given)
            .map(|(_, v)| *v)
            .ok_or_else(|| {
                let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
                self.at.error(
                    key,
                    format!("unknown {given:?}: expected one of {}", names.join(", ")),
                )
            })
    }

    fn files(&mut self) -> Result<Vec<String>> {
        let Some(value) = self.table.remove("files") else {
            return Err(self.at.error("files", "missing"));
        };
        let Value::Array(items) = value else {
            return Err(self.at.error("files", "expected an array of paths"));
        };
        if items.len() > MAX_SCRIPT_STEPS {
            return Err(self
                .at
                .error("files", format!("more than {MAX_SCRIPT_STEPS} files")));
        }
        items
            .into_iter()
            .map(|item| match item {
                Value::String(s) => {
                    normalize_relative("", &s).map_err(|e| self.at.error("files", e.to_string()))
                }
                other => Err(self.at.error(
                    "files",
                    format!("expected a path, found {}", other.type_str()),
                )),
            })
            .collect()
    }

    fn write_how(&mut self) -> Result<WriteHow> {
        let atomic = WriteHow::Atomic(TmpName::Unique);
        let how = self.choice(
            "how",
            WriteHow::InPlace,
            &[
                ("in-place", WriteHow::InPlace),
                ("exclusive", WriteHow::Exclusive),
                ("atomic", atomic),
            ],
        )?;
        let tmp = self.choice(
            "tmp",
            None,
            &[
                ("unique", Some(TmpName::Unique)),
                ("shared", Some(TmpName::Shared)),
            ],
        )?;
        match (how, tmp) {
            (WriteHow::Atomic(_), Some(tmp)) => Ok(WriteHow::Atomic(tmp)),
            (_, Some(_)) => Err(self.at.error("tmp", "tmp belongs to how = \"atomic\"")),
            (how, None) => Ok(how),
        }
    }

    fn lock_kind(&mut self) -> Result<LockKind> {
        self.choice(
            "kind",
            LockKind::Mkdir,
            &[
                ("mkdir", LockKind::Mkdir),
                ("exclusive-file", LockKind::ExclusiveFile),
                ("ineffective", LockKind::Ineffective),
                ("flock", LockKind::Flock),
                ("fcntl", LockKind::Fcntl),
            ],
        )
    }

    /// Fails on any key no step of this kind takes.
    fn finish(self) -> Result<()> {
        match self.table.keys().next() {
            None => Ok(()),
            Some(key) => Err(self.at.error(key, "unknown key for this step")),
        }
    }
}

/// The bytes standing for file `name` of a tree at `version`: the same
/// for every job that installs that version, whatever directory it
/// writes to first.
fn standing_bytes(name: &str, version: &str) -> Vec<u8> {
    Blob::synthetic(format!("{name}@{version}").as_bytes(), 48)
        .bytes()
        .to_vec()
}

/// Parses the `steps` of a script activity of `program`; `steps` holds
/// each step and its line.
pub(crate) fn parse_steps(file: &str, program: &str, steps: Vec<(Value, usize)>) -> Result<Script> {
    if steps.len() > MAX_SCRIPT_STEPS {
        let line = steps.first().map_or(1, |s| s.1);
        return Err(Error::input(
            file,
            line,
            "steps",
            format!("more than {MAX_SCRIPT_STEPS} steps"),
        ));
    }
    let mut script = Script::new(program);
    for (index, (value, line)) in steps.into_iter().enumerate() {
        let at = At { file, line, index };
        let Value::Table(table) = value else {
            return Err(at.error("do", "a step is an inline table: { do = \"…\", … }"));
        };
        let mut keys = Keys {
            at,
            table: table.into_iter().collect(),
        };
        let verb = keys.need_str("do")?;
        let message = keys.take_str("message")?;
        let ignore_errors = keys.flag("ignore-errors")?;
        script = add_step(script, &verb, &mut keys)?;
        if let Some(m) = message {
            script = script.saying(&m);
        }
        if ignore_errors {
            script = script.ignoring_errors();
        }
        keys.finish()?;
    }
    Ok(script)
}

fn add_step(script: Script, verb: &str, k: &mut Keys<'_>) -> Result<Script> {
    Ok(match verb {
        "makedirs" => script.makedirs(&k.path("dir")?),
        "mkdir" => script.mkdir(&k.path("dir")?),
        "ensure-dir" => script.ensure_dir(&k.path("dir")?),
        "mkdir-recursive" => script.create_dir_all(&k.path("dir")?),
        "fail-if-exists" => script.fail_if_exists(&k.path("path")?),
        "chmod" => {
            let path = k.path("path")?;
            let mode = match k.table.remove("mode") {
                Some(Value::Integer(m)) if (0..=0o7777).contains(&m) => m as u32,
                Some(other) => {
                    return Err(k.at.error(
                        "mode",
                        format!("expected permission bits (0o0 to 0o7777), found {other}"),
                    ))
                }
                None => return Err(k.at.error("mode", "missing")),
            };
            script.chmod(&path, mode)
        }
        "write" => {
            let path = k.path("path")?;
            let version = k.take_str("version")?.unwrap_or_default();
            let bytes = match k.take_text("text")? {
                Some(text) => text.into_bytes(),
                None => standing_bytes(&path, &version),
            };
            let how = k.write_how()?;
            script.write(&path, &bytes, how)
        }
        "write-tree" => {
            let dir = k.path("dir")?;
            let files = k.files()?;
            let version = k.take_str("version")?.unwrap_or_default();
            let how = k.write_how()?;
            let contents: Vec<Vec<u8>> =
                files.iter().map(|f| standing_bytes(f, &version)).collect();
            let pairs: Vec<(&str, &[u8])> = files
                .iter()
                .map(String::as_str)
                .zip(contents.iter().map(Vec::as_slice))
                .collect();
            script.write_tree(&dir, &pairs, how)
        }
        "remove" => {
            let path = k.path("path")?;
            let style = k.choice(
                "style",
                RemoveStyle::RmRf,
                &[
                    ("rm-rf", RemoveStyle::RmRf),
                    ("rmtree", RemoveStyle::Rmtree),
                    ("rimraf", RemoveStyle::Rimraf),
                    ("node-rm", RemoveStyle::NodeRm),
                ],
            )?;
            script.remove(&path, style)
        }
        "rename" => {
            let from = k.path("from")?;
            let to = k.path("to")?;
            let missing_ok = k.flag("missing-ok")?;
            script.then(crate::kit::Action::Rename {
                from: from.into(),
                to: to.into(),
                missing_ok,
            })
        }
        "move-file" => {
            let from = k.path("from")?;
            let to = k.path("to")?;
            let replace_existing = k.flag("replace-existing")?;
            script.move_file(&from, &to, replace_existing)
        }
        "swap-in" => {
            let new = k.path("new")?;
            let target = k.path("target")?;
            script.swap_in(&new, &target)
        }
        "exchange-in" => {
            let new = k.path("new")?;
            let target = k.path("target")?;
            script.exchange_in(&new, &target)
        }
        "link-from-store" => {
            let store = k.path("store")?;
            let target = k.path("target")?;
            let tmp_dir = k.path("tmp-dir")?;
            script.link_from_store(&store, &target, &tmp_dir)
        }
        "symlink" => {
            let link = k.path("link")?;
            let target = k.need_str("target")?;
            if target.starts_with('/') {
                return Err(k
                    .at
                    .error("target", "an absolute symlink target leaves the prefix"));
            }
            normalize_relative(parent_of(&link), &target)
                .map_err(|e| k.at.error("target", e.to_string()))?;
            let how = k.choice(
                "how",
                SymlinkHow::Create,
                &[
                    ("create", SymlinkHow::Create),
                    ("unlink-then-create", SymlinkHow::UnlinkThenCreate),
                    ("temp-then-rename", SymlinkHow::TempThenRename),
                ],
            )?;
            script.symlink(&target, &link, how)
        }
        "lock" => {
            let path = k.path("path")?;
            let kind = k.lock_kind()?;
            script.lock(&path, kind)
        }
        "unlock" => {
            let path = k.path("path")?;
            let kind = k.lock_kind()?;
            script.unlock(&path, kind)
        }
        "stash" => script.stash(&k.path("dir")?),
        "skip-if-exists" => script.skip_if_exists(&k.path("path")?),
        "wait-for" => script.wait_for(&k.path("path")?),
        "read" => script.read(&k.path("path")?),
        "cleanup" => script.cleanup(&k.path("path")?),
        "keep" => script.keep(&k.path("path")?),
        other => {
            return Err(k.at.error(
                "do",
                format!(
                    "unknown step {other:?}: expected makedirs, mkdir, ensure-dir, \
                     mkdir-recursive, write, \
                     write-tree, chmod, remove, rename, move-file, swap-in, exchange-in, \
                     link-from-store, stash, symlink, lock, unlock, \
                     skip-if-exists, fail-if-exists, wait-for, read, cleanup or keep"
                ),
            ))
        }
    })
}
