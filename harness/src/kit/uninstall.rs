//! pip 23.2.1's uninstall of the installed distribution before it installs
//! a wheel again: find it, read what it owns, move that aside.
//!
//! From `pip/_internal/req/req_uninstall.py` and `metadata/importlib`,
//! recorded under strace (docs/fidelity.md, `tests/pins_pip_reinstall.rs`):
//! - the distribution is found by listing site-packages and reading the
//!   `METADATA` of each `*.dist-info` for its `Name`; none that matches is
//!   nothing to uninstall, and a `.dist-info` without a readable `METADATA`
//!   is skipped;
//! - its `RECORD` lists what it owns; without one pip refuses:
//!   `ERROR: Cannot uninstall NAME VERSION, RECORD file not found. …` (the
//!   hint depends on `INSTALLER`, which it reads then);
//! - each entry is checked with `stat`; for a `.py` that exists, its
//!   `__pycache__` bytecode of the running Python is checked too, then the
//!   `.pyc` and `.pyo` beside it;
//! - `compress_for_rename` walks the parent directory of every path,
//!   shortest first (`os.walk`: a `readdir` per directory); a directory
//!   whose every file is in the set is moved whole, onto a `~`-named
//!   sibling ([`super::StashDir`]); otherwise its files are moved one by
//!   one into a `TempDirectory` (`/tmp/pip-uninstall-XXXXXXXX`, here
//!   `tmp/pip-uninstall-TOKEN` at the model's root, which stands for the
//!   filesystem outside the prefix), making the parents there, and the
//!   emptied source directories are removed with `os.removedirs`.
//!
//! A file another process wrote under a directory after pip's walk, or
//! one RECORD does not list (an importer's bytecode of another Python, a
//! stray file), is what splits a directory into single moves.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::installed::{
    cache_from_source, canonical_name, compact, metadata_field, record_entries,
    uninstallation_paths, walk_roots,
};
use super::{CreateDir, Failure, Next, Primitive, StashDir};
use crate::fs::{parent_of, split_parent};
use crate::op::{Errno, Fd, Kind, Op, OpResult, OpenFlags, Value};

/// Which file a read is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Reading {
    /// The `METADATA` of the n-th `.dist-info`.
    Metadata(usize),
    Record,
    Installer,
}

#[derive(Debug, Clone)]
enum Phase {
    List,
    Open(Reading),
    Read(Reading, Fd),
    Close(Reading, Fd),
    /// `stat` of the n-th candidate (`os.path.exists`).
    Exists(usize),
    /// `readdir` of the directory on top of the walk's stack.
    WalkList,
    /// `lstat` of the n-th entry found by the last `readdir`.
    WalkKind(usize),
    /// `stat` of the n-th path to move (`os.path.isdir`).
    IsDir(usize),
    Directory(usize, StashDir),
    TempDir(usize, CreateDir),
    /// `stat` of the new path's parent (`renames`' `exists(head)`).
    Head(usize),
    Makedirs(usize, CreateDir),
    Move(usize),
    /// `os.removedirs` of the moved file's directory.
    Removedirs(usize, Arc<str>),
    Done,
    Failed(Failure),
}

/// What the uninstall moved, for the commit (remove `save_dirs`) or the
/// rollback (move each `moves` back).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Stashed {
    /// `(original, stashed)` for each path moved, in order.
    pub moves: Vec<(Arc<str>, Arc<str>)>,
    /// The stash directories, in the order pip made them (and removes them).
    pub save_dirs: Vec<Arc<str>>,
}

/// The installed distribution pip found.
#[derive(Debug, Clone)]
struct Found {
    dist_info: Arc<str>,
    raw_name: String,
    version: String,
}

/// An uninstall in progress.
#[derive(Debug, Clone)]
pub struct PipUninstall {
    site: Arc<str>,
    name: String,
    python_tag: Arc<str>,
    job: Arc<str>,
    phase: Phase,
    dist_infos: Vec<Arc<str>>,
    data: Option<Vec<u8>>,
    found: Option<Found>,
    candidates: Vec<Arc<str>>,
    remaining: BTreeSet<Arc<str>>,
    roots: Vec<Arc<str>>,
    root: usize,
    wildcards: Vec<Arc<str>>,
    /// The walk of the current root: directories still to list, the last
    /// listing's entries, the files found.
    stack: Vec<Arc<str>>,
    entries: Vec<Arc<str>>,
    subdirs: Vec<Arc<str>>,
    walked: BTreeSet<Arc<str>>,
    to_move: Vec<Arc<str>>,
    /// The destination of the path being moved.
    target: Option<Arc<str>>,
    /// `(key, path)` of each stash directory, as pip's `_save_dirs`.
    save_dirs: Vec<(Arc<str>, Arc<str>)>,
    moves: Vec<(Arc<str>, Arc<str>)>,
    refusal: Option<String>,
}

impl PipUninstall {
    /// Uninstalls the distribution `name` from `site` (relative to the
    /// prefix root), for a Python whose bytecode is tagged `python_tag`;
    /// `job` names its temporary directories.
    pub fn new(site: &str, name: &str, python_tag: &str, job: &str) -> PipUninstall {
        PipUninstall {
            site: site.trim_end_matches('/').into(),
            name: canonical_name(name),
            python_tag: python_tag.into(),
            job: job.into(),
            phase: Phase::List,
            dist_infos: Vec::new(),
            data: None,
            found: None,
            candidates: Vec::new(),
            remaining: BTreeSet::new(),
            roots: Vec::new(),
            root: 0,
            wildcards: Vec::new(),
            stack: Vec::new(),
            entries: Vec::new(),
            subdirs: Vec::new(),
            walked: BTreeSet::new(),
            to_move: Vec::new(),
            target: None,
            save_dirs: Vec::new(),
            moves: Vec::new(),
            refusal: None,
        }
    }

    /// What was moved aside, so far.
    pub fn stashed(&self) -> Stashed {
        Stashed {
            moves: self.moves.clone(),
            save_dirs: self.save_dirs.iter().map(|(_, p)| p.clone()).collect(),
        }
    }

    /// pip's own line when it refused to uninstall (no `RECORD`).
    pub fn refusal(&self) -> Option<&str> {
        self.refusal.as_deref()
    }

    fn path_of(&self, reading: Reading) -> Arc<str> {
        match reading {
            Reading::Metadata(i) => format!("{}/METADATA", self.dist_infos[i]).into(),
            Reading::Record => format!("{}/RECORD", self.dist_info()).into(),
            Reading::Installer => format!("{}/INSTALLER", self.dist_info()).into(),
        }
    }

    fn dist_info(&self) -> &str {
        self.found.as_ref().map_or("", |f| &f.dist_info)
    }

    /// After the listing or a skipped `.dist-info`: the next one's
    /// `METADATA`, or nothing to uninstall.
    fn next_dist_info(&self, from: usize) -> Phase {
        if from < self.dist_infos.len() {
            Phase::Open(Reading::Metadata(from))
        } else {
            Phase::Done
        }
    }

    /// What follows a finished read (`data` is `None` when it failed).
    fn after_read(&mut self, reading: Reading, data: Option<Vec<u8>>) -> Phase {
        match reading {
            Reading::Metadata(i) => {
                let Some(data) = data else {
                    return self.next_dist_info(i + 1);
                };
                let name = metadata_field(&data, "Name");
                match name {
                    Some(raw) if canonical_name(&raw) == self.name => {
                        self.found = Some(Found {
                            dist_info: self.dist_infos[i].clone(),
                            raw_name: raw,
                            version: metadata_field(&data, "Version").unwrap_or_default(),
                        });
                        Phase::Open(Reading::Record)
                    }
                    _ => self.next_dist_info(i + 1),
                }
            }
            Reading::Record => match data {
                Some(data) => {
                    self.candidates = uninstallation_paths(&self.site, &record_entries(&data));
                    self.after_exists(0)
                }
                None => Phase::Open(Reading::Installer),
            },
            Reading::Installer => {
                let installer = data
                    .map(|d| String::from_utf8_lossy(&d).into_owned())
                    .and_then(|t| {
                        t.lines()
                            .map(str::trim)
                            .find(|l| !l.is_empty())
                            .map(String::from)
                    })
                    .unwrap_or_default();
                let found = self.found.as_ref().expect("a distribution was found");
                let mut line = format!(
                    "ERROR: Cannot uninstall {} {}, RECORD file not found.",
                    found.raw_name, found.version
                );
                if installer.is_empty() || installer == "pip" {
                    line.push_str(&format!(
                        " You might be able to recover from this via: \
                         'pip install --force-reinstall --no-deps {}=={}'.",
                        found.raw_name, found.version
                    ));
                } else {
                    line.push_str(&format!(" Hint: The package was installed by {installer}."));
                }
                self.refusal = Some(line);
                Phase::Failed(Failure::new(
                    "open",
                    Errno::ENOENT,
                    &self.path_of(Reading::Record),
                ))
            }
        }
    }

    /// The next existence check, or the walk once all are done.
    fn after_exists(&mut self, k: usize) -> Phase {
        if k < self.candidates.len() {
            return Phase::Exists(k);
        }
        let paths: Vec<Arc<str>> = self.remaining.iter().cloned().collect();
        if paths.is_empty() {
            // "Can't uninstall 'NAME'. No files were found to uninstall."
            return Phase::Done;
        }
        self.roots = walk_roots(&paths);
        self.next_root(0)
    }

    /// The walk of the next root not under a directory already taken whole.
    fn next_root(&mut self, from: usize) -> Phase {
        let mut i = from;
        while i < self.roots.len() {
            let root = &self.roots[i];
            if !self.wildcards.iter().any(|w| root.starts_with(&**w)) {
                self.root = i;
                self.stack = vec![root.clone()];
                self.walked.clear();
                return Phase::WalkList;
            }
            i += 1;
        }
        let mut set: Vec<Arc<str>> = self.remaining.iter().cloned().collect();
        set.extend(self.wildcards.iter().cloned());
        self.to_move = compact(&set);
        self.next_move(0)
    }

    /// The walk of the current root is over: take it whole if every file
    /// found is one to move.
    fn root_walked(&mut self) -> Phase {
        if self.walked.is_subset(&self.remaining) {
            for f in std::mem::take(&mut self.walked) {
                self.remaining.remove(&f);
            }
            self.wildcards
                .push(format!("{}/", self.roots[self.root]).into());
        }
        self.next_root(self.root + 1)
    }

    /// The next directory of the walk (depth first, as `os.walk`), or the
    /// end of this root's walk.
    fn walk_on(&mut self) -> Phase {
        for dir in std::mem::take(&mut self.subdirs).into_iter().rev() {
            self.stack.push(dir);
        }
        if self.stack.is_empty() {
            self.root_walked()
        } else {
            Phase::WalkList
        }
    }

    fn next_move(&self, i: usize) -> Phase {
        if i < self.to_move.len() {
            Phase::IsDir(i)
        } else {
            Phase::Done
        }
    }

    fn moving(&self, i: usize) -> Arc<str> {
        self.to_move[i].trim_end_matches('/').into()
    }

    /// `_get_file_stash`: the stash directory of the closest parent that
    /// has one, or a new `TempDirectory` for the file's directory.
    fn file_target(&mut self, i: usize) -> Phase {
        let path = self.moving(i);
        let mut head: &str = parent_of(&path);
        loop {
            if let Some((key, dir)) = self.save_dirs.iter().find(|(k, _)| &**k == head) {
                let rel = &path[key.len()..].trim_start_matches('/');
                self.target = Some(format!("{dir}/{rel}").into());
                return Phase::Head(i);
            }
            if head.is_empty() {
                break;
            }
            head = parent_of(head);
        }
        let n = self.save_dirs.len();
        let token = crate::job::temp_token(&format!("{}#uninstall{n}", self.job));
        let dir: Arc<str> = format!("tmp/pip-uninstall-{token}").into();
        self.save_dirs.push((parent_of(&path).into(), dir.clone()));
        Phase::TempDir(i, CreateDir::tolerant(&dir))
    }

    fn target(&self) -> Arc<str> {
        self.target.clone().expect("a target")
    }
}

impl Primitive for PipUninstall {
    fn next(&mut self, probe: &dyn Fn(&str) -> Option<Kind>) -> Next {
        match &mut self.phase {
            Phase::Directory(_, stash) => return stash.next(probe),
            Phase::TempDir(_, dir) | Phase::Makedirs(_, dir) => return dir.next(probe),
            _ => {}
        }
        let op = match &self.phase {
            Phase::List => Op::Readdir {
                path: self.site.clone(),
            },
            Phase::Open(r) => Op::Open {
                path: self.path_of(*r),
                flags: OpenFlags::READ,
                mode: 0,
            },
            Phase::Read(r, fd) => Op::Read {
                fd: *fd,
                path: self.path_of(*r),
            },
            Phase::Close(r, fd) => Op::Close {
                fd: *fd,
                path: self.path_of(*r),
            },
            Phase::Exists(k) => Op::Stat {
                path: self.candidates[*k].clone(),
            },
            Phase::WalkList => Op::Readdir {
                path: self.stack.last().expect("a directory").clone(),
            },
            Phase::WalkKind(k) => Op::Lstat {
                path: self.entries[*k].clone(),
            },
            Phase::IsDir(i) => Op::Stat {
                path: self.moving(*i),
            },
            Phase::Directory(..) | Phase::TempDir(..) | Phase::Makedirs(..) => {
                unreachable!("offered above")
            }
            Phase::Head(_) => Op::Stat {
                path: parent_of(&self.target()).into(),
            },
            Phase::Move(i) => Op::Rename {
                from: self.moving(*i),
                to: self.target(),
            },
            Phase::Removedirs(_, dir) => Op::Rmdir { path: dir.clone() },
            Phase::Done => return Next::Done,
            Phase::Failed(f) => return Next::Fail(f.clone()),
        };
        Next::Op(op)
    }

    fn complete(&mut self, result: &OpResult) {
        let phase = std::mem::replace(&mut self.phase, Phase::Done);
        self.phase = match (phase, result) {
            (Phase::List, Ok(Value::Names(names))) => {
                self.dist_infos = names
                    .iter()
                    .filter(|n| n.to_ascii_lowercase().ends_with(".dist-info"))
                    .map(|n| format!("{}/{n}", self.site).into())
                    .collect();
                self.next_dist_info(0)
            }
            (Phase::List, _) => Phase::Done,
            (Phase::Open(r), Ok(Value::Fd(fd))) => Phase::Read(r, *fd),
            (Phase::Open(r), _) => self.after_read(r, None),
            (Phase::Read(r, fd), Ok(value)) => {
                self.data = Some(match value {
                    Value::Data(content) => content.to_bytes(),
                    _ => Vec::new(),
                });
                Phase::Close(r, fd)
            }
            (Phase::Read(r, fd), Err(_)) => {
                self.data = None;
                Phase::Close(r, fd)
            }
            (Phase::Close(r, _), _) => {
                let data = self.data.take();
                self.after_read(r, data)
            }
            (Phase::Exists(k), Ok(_)) => {
                let path = self.candidates[k].clone();
                self.remaining.insert(path.clone());
                // `add` checks the bytecode of an existing `.py` next.
                if path.ends_with(".py") {
                    let cached = cache_from_source(&path, &self.python_tag);
                    self.candidates.insert(k + 1, cached);
                }
                self.after_exists(k + 1)
            }
            (Phase::Exists(k), Err(_)) => self.after_exists(k + 1),
            (Phase::WalkList, result) => {
                let dir = self.stack.pop().expect("a directory");
                self.entries = match result {
                    Ok(Value::Names(names)) => {
                        names.iter().map(|n| format!("{dir}/{n}").into()).collect()
                    }
                    // os.walk without onerror: an unreadable directory is
                    // silently left out.
                    _ => Vec::new(),
                };
                if self.entries.is_empty() {
                    self.walk_on()
                } else {
                    Phase::WalkKind(0)
                }
            }
            (Phase::WalkKind(k), result) => {
                let entry = self.entries[k].clone();
                match result {
                    Ok(Value::Meta(meta)) if meta.kind == Kind::Dir => self.subdirs.push(entry),
                    Err(_) => {}
                    Ok(_) => {
                        self.walked.insert(entry);
                    }
                }
                if k + 1 < self.entries.len() {
                    Phase::WalkKind(k + 1)
                } else {
                    self.walk_on()
                }
            }
            (Phase::IsDir(i), Ok(Value::Meta(meta))) if meta.kind == Kind::Dir => {
                let path = self.moving(i);
                Phase::Directory(i, StashDir::new(&path))
            }
            (Phase::IsDir(i), _) => self.file_target(i),
            (Phase::Directory(i, mut stash), result) => {
                stash.complete(result);
                match stash.next(&|_| None) {
                    Next::Done => {
                        if let Some(to) = stash.stashed_at() {
                            let from = self.moving(i);
                            self.save_dirs.push((self.to_move[i].clone(), to.clone()));
                            self.moves.push((from, to));
                        }
                        self.next_move(i + 1)
                    }
                    Next::Fail(f) => Phase::Failed(f),
                    _ => Phase::Directory(i, stash),
                }
            }
            (Phase::TempDir(i, mut dir), result) => {
                dir.complete(result);
                match dir.next(&|_| None) {
                    Next::Done => {
                        let path = self.moving(i);
                        let (key, save) = self.save_dirs.last().expect("just made").clone();
                        let rel = path[key.len()..].trim_start_matches('/');
                        self.target = Some(format!("{save}/{rel}").into());
                        Phase::Head(i)
                    }
                    Next::Fail(f) => Phase::Failed(f),
                    _ => Phase::TempDir(i, dir),
                }
            }
            (Phase::Head(i), Ok(_)) => Phase::Move(i),
            (Phase::Head(i), Err(_)) => {
                let head: Arc<str> = parent_of(&self.target()).into();
                Phase::Makedirs(i, CreateDir::tolerant(&head))
            }
            (Phase::Makedirs(i, mut dir), result) => {
                dir.complete(result);
                match dir.next(&|_| None) {
                    Next::Done => Phase::Move(i),
                    Next::Fail(f) => Phase::Failed(f),
                    _ => Phase::Makedirs(i, dir),
                }
            }
            (Phase::Move(i), Ok(_)) => {
                let from = self.moving(i);
                self.moves.push((from.clone(), self.target()));
                let (head, _) = split_parent(&from);
                if head.is_empty() {
                    self.next_move(i + 1)
                } else {
                    Phase::Removedirs(i, head.into())
                }
            }
            // shutil.move falls back to a copy, which fails on the source.
            (Phase::Move(i), Err(e)) => Phase::Failed(Failure::new("open", *e, &self.moving(i))),
            (Phase::Removedirs(i, dir), Ok(_)) => match parent_of(&dir) {
                "" => self.next_move(i + 1),
                up => Phase::Removedirs(i, up.into()),
            },
            (Phase::Removedirs(i, _), Err(_)) => self.next_move(i + 1),
            (phase @ (Phase::Done | Phase::Failed(_)), _) => phase,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::Blob;
    use crate::fs::ModelFs;
    use crate::kit::test_support::{create_file, model_with, run_on};

    const SP: &str = "sp";

    /// A model with `files` (one byte each) and the dist-info of `idna`
    /// 3.7 whose RECORD lists `record`.
    fn installed(files: &[&str], record: Option<&[&str]>) -> ModelFs {
        let mut fs = model_with(files);
        let metadata = Blob::new(b"Metadata-Version: 2.1\nName: idna\nVersion: 3.7\n\n".to_vec());
        write(&mut fs, "sp/idna-3.7.dist-info/METADATA", &metadata);
        if let Some(record) = record {
            let text: String = record.iter().map(|e| format!("{e},,\n")).collect();
            write(
                &mut fs,
                "sp/idna-3.7.dist-info/RECORD",
                &Blob::new(text.into_bytes()),
            );
        }
        fs
    }

    fn write(fs: &mut ModelFs, path: &str, blob: &Arc<Blob>) {
        use crate::fs::Fs;
        create_file(fs, path);
        let Ok(Value::Fd(fd)) = fs.apply(&Op::Open {
            path: path.into(),
            flags: OpenFlags::CREATE_TRUNC,
            mode: 0o644,
        }) else {
            panic!("open {path}")
        };
        fs.apply(&Op::Write {
            fd,
            path: path.into(),
            blob: blob.clone(),
        })
        .unwrap();
        fs.apply(&Op::Close {
            fd,
            path: path.into(),
        })
        .unwrap();
    }

    fn moved(u: &PipUninstall) -> Vec<String> {
        u.stashed()
            .moves
            .iter()
            .map(|(a, b)| format!("{a} -> {b}"))
            .collect()
    }

    /// Every file under each directory is in RECORD (or is the bytecode of
    /// a `.py` in it): both directories move whole, the `.dist-info` first.
    #[test]
    fn a_complete_install_moves_its_directories_whole() {
        let mut fs = installed(
            &[
                "sp/idna/core.py",
                "sp/idna/__pycache__/core.cpython-311.pyc",
            ],
            Some(&[
                "idna/core.py",
                "idna-3.7.dist-info/METADATA",
                "idna-3.7.dist-info/RECORD",
            ]),
        );
        let mut u = PipUninstall::new(SP, "idna", "cpython-311", "pip[idna]");
        let (ops, end) = run_on(&mut fs, &mut u);
        assert_eq!(end, Next::Done, "{ops:#?}");
        assert_eq!(
            moved(&u),
            [
                "sp/idna-3.7.dist-info -> sp/~dna-3.7.dist-info",
                "sp/idna -> sp/~dna"
            ]
        );
        assert!(fs
            .inode_of("sp/~dna/__pycache__/core.cpython-311.pyc")
            .is_some());
    }

    /// A file RECORD does not list splits its directory: the listed files
    /// move one by one into a temporary directory, the stray one stays.
    #[test]
    fn a_stray_file_splits_the_directory_into_single_moves() {
        let mut fs = installed(
            &[
                "sp/idna/core.py",
                "sp/idna/__pycache__/stray.cpython-311.pyc",
            ],
            Some(&[
                "idna/core.py",
                "idna-3.7.dist-info/METADATA",
                "idna-3.7.dist-info/RECORD",
            ]),
        );
        let mut u = PipUninstall::new(SP, "idna", "cpython-311", "pip[idna]");
        let (ops, end) = run_on(&mut fs, &mut u);
        assert_eq!(end, Next::Done, "{ops:#?}");
        let moves = moved(&u);
        assert_eq!(moves[0], "sp/idna-3.7.dist-info -> sp/~dna-3.7.dist-info");
        assert!(
            moves[1].starts_with("sp/idna/core.py -> tmp/pip-uninstall-"),
            "{moves:?}"
        );
        assert!(moves[1].ends_with("/core.py"));
        assert!(fs
            .inode_of("sp/idna/__pycache__/stray.cpython-311.pyc")
            .is_some());
        assert!(ops.contains(&"rmdir sp/idna".to_string()));
    }

    /// No `.dist-info` whose METADATA names it: nothing to move. One
    /// without RECORD: pip's refusal, naming the version and the hint.
    #[test]
    fn nothing_installed_is_nothing_and_no_record_is_refused() {
        let mut fs = model_with(&["sp/idna/core.py", "sp/other-1.dist-info/METADATA"]);
        let mut u = PipUninstall::new(SP, "idna", "cpython-311", "pip[idna]");
        let (ops, end) = run_on(&mut fs, &mut u);
        assert_eq!(end, Next::Done);
        assert_eq!(ops[0], "getdents sp");
        assert!(moved(&u).is_empty());

        // Another pip's METADATA, opened but not yet written: no name, so
        // nothing of that name is installed.
        let mut fs = model_with(&["sp/idna/core.py"]);
        write(
            &mut fs,
            "sp/idna-3.7.dist-info/METADATA",
            &Blob::new(Vec::new()),
        );
        let mut u = PipUninstall::new(SP, "idna", "cpython-311", "pip[idna]");
        let (_, end) = run_on(&mut fs, &mut u);
        assert_eq!((end, moved(&u).len()), (Next::Done, 0));

        let mut fs = installed(&["sp/idna/core.py"], None);
        let mut u = PipUninstall::new(SP, "IDNA", "cpython-311", "pip[idna]");
        let (_, end) = run_on(&mut fs, &mut u);
        assert!(matches!(end, Next::Fail(_)));
        assert_eq!(
            u.refusal(),
            Some(
                "ERROR: Cannot uninstall idna 3.7, RECORD file not found. You might be able \
                 to recover from this via: 'pip install --force-reinstall --no-deps idna==3.7'."
            )
        );
        assert!(fs.inode_of("sp/idna/core.py").is_some());
    }

    /// Whatever an interleaving left in RECORD is parsed, never a panic:
    /// entries climbing past the root, an unterminated quote, bytes that
    /// are not UTF-8.
    #[test]
    fn a_hostile_record_is_parsed_without_a_panic() {
        let mut fs = installed(&["sp/idna/core.py"], None);
        let record = Blob::new(b"../../../../..,,\n\"unterminated\n\xff\xfe,,\n,,\n".to_vec());
        write(&mut fs, "sp/idna-3.7.dist-info/RECORD", &record);
        let mut u = PipUninstall::new(SP, "idna", "cpython-311", "pip[idna]");
        let (_, end) = run_on(&mut fs, &mut u);
        assert_eq!(end, Next::Done);
        assert!(fs.inode_of("sp/idna/core.py").is_some());
    }
}
