//! Gentoo portage merging a built image into the live prefix.
//!
//! Portage builds every package into an image directory (`${D}`), then
//! `dblink.treewalk` merges it, file by file, under the package-database lock
//! (unless `FEATURES=parallel-install`). The rules, from
//! `lib/portage/dbapi/vartree.py` (`dblink.treewalk`, `_collision_protect`,
//! `mergeme`) and `lib/portage/util/movefile.py`:
//! - collision check first: the owners of every file already installed are
//!   read from the package database (each package's `CONTENTS`); with the
//!   default `FEATURES=protect-owned` a file of the image that exists in the
//!   prefix and is owned by *another* package is a collision, and the whole
//!   package is refused: `* Package 'X' NOT merged due to file collisions.`
//!   Files nobody owns (say a `.pyc` an importer just wrote) are overwritten.
//!   `FEATURES=collision-protect` treats unowned files as collisions too;
//! - then `mergeme` walks the image, pre-order, entries in name order (a
//!   deterministic stand-in for `os.listdir`): for a directory it `lstat`s the
//!   destination, keeps an existing directory, otherwise calls `os.mkdir`
//!   *unguarded* — EEXIST from a concurrent creator raises `OSError` and the
//!   merge dies — then `chmod`s it; a file is copied by `movefile` to
//!   `DEST#new` (`O_WRONLY|O_CREAT|O_TRUNC`), given its mode, and renamed over
//!   `DEST`, so it is replaced atomically;
//! - finally the package is recorded: `var/db/pkg/NAME/CONTENTS` (in the
//!   prefix, like a Gentoo Prefix's `${EPREFIX}/var/db/pkg`), one line per
//!   entry: `dir /PATH`, `obj /PATH DIGEST`, `sym /PATH -> TARGET`.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::held::lend_held_op;
use super::{CpKind, CpPlan, Diagnostic, HeldOp, Job, Step, Writing, Written};
use crate::content::Blob;
use crate::kit::{Makedirs, MakedirsStep, WriteErrors, WriteFile, WriteHow};
use crate::op::{Errno, Fd, Kind, Op, OpResult, OpenFlags, Value};

/// Which existing files portage treats as collisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Collision {
    /// `FEATURES=protect-owned` (portage's default): files owned by another package.
    #[default]
    ProtectOwned,
    /// `FEATURES=collision-protect`: any existing file this package does not own.
    CollisionProtect,
    /// Neither feature: no collision check at all.
    Off,
}

impl Collision {
    /// The name in declarative strategies.
    pub fn name(self) -> &'static str {
        match self {
            Collision::ProtectOwned => "protect-owned",
            Collision::CollisionProtect => "collision-protect",
            Collision::Off => "off",
        }
    }

    /// Parses [`Collision::name`].
    pub fn from_name(name: &str) -> Option<Collision> {
        [
            Collision::ProtectOwned,
            Collision::CollisionProtect,
            Collision::Off,
        ]
        .into_iter()
        .find(|c| c.name() == name)
    }
}

/// Everything one merge does, precomputed.
#[derive(Debug, Clone)]
pub struct ImageMergePlan {
    /// The package as portage names it in messages, e.g. `Cython-0.29.21`.
    pub package: String,
    /// The image, pre-order, entries of a directory in name order.
    pub image: CpPlan,
    /// This package's database directory, e.g. `var/db/pkg/Cython`.
    pub vdb_dir: Arc<str>,
    /// `CONTENTS` files of the other packages of the scenario.
    pub others: Vec<Arc<str>>,
    /// What counts as a collision.
    pub collision: Collision,
    /// The prefix as portage prints it.
    pub prefix_display: String,
}

/// The package-database directory of `package`: `var/db/pkg/NAME`, the name
/// reduced to one safe path component (scenario package names are free text).
pub fn vdb_dir(package: &str) -> String {
    let mut name: String = package
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._+-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() || name.starts_with('.') {
        name.insert(0, '_');
    }
    format!("var/db/pkg/{name}")
}

impl ImageMergePlan {
    /// The `CONTENTS` file this merge writes.
    pub fn contents_path(&self) -> Arc<str> {
        format!("{}/CONTENTS", self.vdb_dir).into()
    }

    /// The `CONTENTS` bytes: one line per image entry, in merge order.
    pub fn contents(&self) -> Arc<Blob> {
        let mut out = String::new();
        for e in &self.image.entries {
            match &e.kind {
                CpKind::Dir => out.push_str(&format!("dir /{}\n", e.path)),
                CpKind::File(b) => out.push_str(&format!("obj /{} {}\n", e.path, b.short_digest())),
                CpKind::Symlink(t) => out.push_str(&format!("sym /{} -> {t}\n", e.path)),
            }
        }
        Blob::new(out.into_bytes())
    }
}

/// The paths a `CONTENTS` file lists as owned files and symlinks.
pub fn parse_contents(bytes: &[u8]) -> BTreeSet<String> {
    String::from_utf8_lossy(bytes)
        .lines()
        .filter_map(|l| {
            let mut parts = l.split_whitespace();
            match parts.next() {
                Some("obj") | Some("sym") => {
                    parts.next().map(|p| p.trim_start_matches('/').to_string())
                }
                _ => None,
            }
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Owners,
    Collisions,
    Merge,
    Record,
    Done,
}

#[derive(Debug, Clone)]
enum Pending {
    OwnersOpen,
    OwnersRead(Fd),
    OwnersClose,
    CollisionLstat,
    DirLstat,
    DirMkdir,
    DirChmod,
    FileLstat,
    /// The file written to `<path>#new` (`O_CREAT|O_TRUNC`, 0666),
    /// chmodded to its mode and renamed over its path.
    FileWrite(Writing),
    LinkLstat,
    LinkUnlink,
    LinkSymlink,
    RecordMakedirs(Makedirs),
    /// `CONTENTS` written in place.
    RecordWrite(Writing),
}

/// A running portage merge of one image.
#[derive(Debug, Clone)]
pub struct ImageMergeJob {
    /// The op offered, held until its result comes back.
    held: HeldOp,
    label: String,
    plan: Arc<ImageMergePlan>,
    phase: Phase,
    index: usize,
    pending: Option<(Op, Pending)>,
    owned_by_others: BTreeSet<String>,
    collisions: Vec<String>,
    exit: Option<i32>,
    diagnostics: Vec<Diagnostic>,
}

impl ImageMergeJob {
    /// A merge job for `plan`.
    pub fn new(label: impl Into<String>, plan: Arc<ImageMergePlan>) -> ImageMergeJob {
        ImageMergeJob {
            held: HeldOp::default(),
            label: label.into(),
            plan,
            phase: Phase::Owners,
            index: 0,
            pending: None,
            owned_by_others: BTreeSet::new(),
            collisions: Vec::new(),
            exit: None,
            diagnostics: Vec::new(),
        }
    }

    fn shown(&self, path: &str) -> String {
        format!("{}/{path}", self.plan.prefix_display)
    }

    /// Portage dies with the Python exception of a failed syscall.
    fn die(&mut self, errno: Errno, path: &str) {
        self.diagnostics.push(Diagnostic {
            message: format!(
                "OSError: [Errno {}] {}: '{}'",
                errno.number(),
                errno.message(),
                self.shown(path)
            ),
            fatal: true,
        });
        self.exit = Some(1);
    }

    fn refuse(&mut self) {
        for c in &self.collisions {
            self.diagnostics.push(Diagnostic {
                message: format!(" * Detected file collision: {}", self.shown(c)),
                fatal: false,
            });
        }
        self.diagnostics.push(Diagnostic {
            message: format!(
                " * Package '{}' NOT merged due to file collisions.",
                self.plan.package
            ),
            fatal: true,
        });
        self.exit = Some(1);
    }

    fn entry_path(&self) -> Arc<str> {
        self.plan.image.entries[self.index].path.clone()
    }

    /// The first op of the next item, moving through the phases.
    fn begin(&mut self) -> Option<(Op, Pending)> {
        loop {
            match self.phase {
                Phase::Owners => match self.plan.others.get(self.index) {
                    Some(c) => {
                        return Some((
                            Op::Open {
                                path: c.clone(),
                                flags: OpenFlags::READ,
                                mode: 0,
                            },
                            Pending::OwnersOpen,
                        ))
                    }
                    None => self.advance(Phase::Collisions),
                },
                Phase::Collisions => {
                    if self.plan.collision == Collision::Off {
                        self.advance(Phase::Merge);
                        continue;
                    }
                    match self.plan.image.entries.get(self.index) {
                        Some(e) if matches!(e.kind, CpKind::Dir) => self.index += 1,
                        Some(e) => {
                            return Some((
                                Op::Lstat {
                                    path: e.path.clone(),
                                },
                                Pending::CollisionLstat,
                            ))
                        }
                        None => self.advance(Phase::Merge),
                    }
                }
                Phase::Merge => match self.plan.image.entries.get(self.index) {
                    Some(e) => {
                        let path = e.path.clone();
                        let pending = match e.kind {
                            CpKind::Dir => Pending::DirLstat,
                            CpKind::File(_) => Pending::FileLstat,
                            CpKind::Symlink(_) => Pending::LinkLstat,
                        };
                        return Some((Op::Lstat { path }, pending));
                    }
                    None => self.advance(Phase::Record),
                },
                Phase::Record => {
                    let md = Makedirs::new(self.plan.vdb_dir.clone());
                    let MakedirsStep::Op(op) = md.step() else {
                        unreachable!("makedirs starts with a stat")
                    };
                    self.phase = Phase::Done;
                    return Some((op, Pending::RecordMakedirs(md)));
                }
                Phase::Done => return None,
            }
        }
    }

    fn advance(&mut self, phase: Phase) {
        self.phase = phase;
        self.index = 0;
    }

    fn set(&mut self, op: Op, pending: Pending) {
        self.pending = Some((op, pending));
    }

    fn new_name(&self) -> Arc<str> {
        format!("{}#new", self.entry_path()).into()
    }
}

impl ImageMergeJob {
    /// The next step, worked out from the job's state; [`Job::poll`] holds
    /// its op until the result comes back.
    fn next_step(&mut self, _probe: &dyn Fn(&str) -> Option<Kind>) -> Step {
        if let Some(code) = self.exit {
            return Step::Exit(code);
        }
        if self.pending.is_none() {
            self.pending = self.begin();
        }
        match &self.pending {
            Some((op, _)) => Step::Op(op.clone()),
            None => Step::Exit(self.exit.unwrap_or(0)),
        }
    }
}

impl Job for ImageMergeJob {
    fn label(&self) -> &str {
        &self.label
    }

    fn program(&self) -> &'static str {
        "portage"
    }

    lend_held_op!();

    fn complete(&mut self, result: &OpResult) {
        self.held.release();
        let Some((op, pending)) = self.pending.take() else {
            return;
        };
        let path = op.path().clone();
        match pending {
            Pending::OwnersOpen => match result {
                Ok(Value::Fd(fd)) => self.set(Op::Read { fd: *fd, path }, Pending::OwnersRead(*fd)),
                _ => self.index += 1,
            },
            Pending::OwnersRead(fd) => {
                if let Ok(Value::Data(c)) = result {
                    self.owned_by_others.extend(parse_contents(&c.to_bytes()));
                }
                self.set(Op::Close { fd, path }, Pending::OwnersClose);
            }
            Pending::OwnersClose => self.index += 1,
            Pending::CollisionLstat => {
                let exists = matches!(result, Ok(Value::Meta(m)) if m.kind != Kind::Dir);
                let owned_elsewhere = self.owned_by_others.contains(&*path);
                let collides = exists
                    && match self.plan.collision {
                        Collision::ProtectOwned => owned_elsewhere,
                        Collision::CollisionProtect => true,
                        Collision::Off => false,
                    };
                if collides {
                    self.collisions.push(path.to_string());
                }
                self.index += 1;
                // Portage refuses once the whole image is checked; the refusal
                // belongs to this op, the last check.
                let more = self.plan.image.entries[self.index..]
                    .iter()
                    .any(|e| !matches!(e.kind, CpKind::Dir));
                if !more && !self.collisions.is_empty() {
                    self.refuse();
                }
            }
            Pending::DirLstat => match result {
                Ok(Value::Meta(m)) if m.kind == Kind::Dir || m.kind == Kind::Symlink => {
                    self.index += 1
                }
                Ok(_) => self.die(Errno::EEXIST, &path),
                Err(_) => {
                    let mode = self.plan.image.entries[self.index].mode;
                    self.set(Op::Mkdir { path, mode }, Pending::DirMkdir);
                }
            },
            Pending::DirMkdir => match result {
                Ok(_) => {
                    let mode = self.plan.image.entries[self.index].mode;
                    self.set(Op::Chmod { path, mode }, Pending::DirChmod);
                }
                Err(e) => self.die(*e, &path),
            },
            Pending::DirChmod => match result {
                Ok(_) => self.index += 1,
                Err(e) => self.die(*e, &path),
            },
            Pending::FileLstat => match result {
                Ok(Value::Meta(m)) if m.kind == Kind::Dir => self.die(Errno::EISDIR, &path),
                _ => {
                    let tmp = self.new_name();
                    let to = self.entry_path();
                    let entry = &self.plan.image.entries[self.index];
                    let CpKind::File(blob) = &entry.kind else {
                        unreachable!("file ops only run on file entries")
                    };
                    let write = WriteFile::through_temp(&tmp, &to, blob)
                        .with_open_mode(0o666)
                        .with_chmod_after_close(Some(entry.mode))
                        .with_errors(WriteErrors::UncheckedClose);
                    let (op, writing) = Writing::start(write);
                    self.set(op, Pending::FileWrite(writing));
                }
            },
            Pending::FileWrite(writing) => match writing.complete(path, result) {
                Written::Op(op, writing) => self.set(op, Pending::FileWrite(writing)),
                Written::Done => self.index += 1,
                Written::Failed(errno, path) => self.die(errno, &path),
            },
            Pending::LinkLstat => match result {
                Ok(Value::Meta(m)) if m.kind == Kind::Dir => self.die(Errno::EISDIR, &path),
                Ok(_) => self.set(Op::Unlink { path }, Pending::LinkUnlink),
                Err(_) => {
                    let CpKind::Symlink(target) = self.plan.image.entries[self.index].kind.clone()
                    else {
                        unreachable!("link ops only run on symlink entries")
                    };
                    self.set(Op::Symlink { target, path }, Pending::LinkSymlink);
                }
            },
            Pending::LinkUnlink => match result {
                Ok(_) | Err(Errno::ENOENT) => {
                    let CpKind::Symlink(target) = self.plan.image.entries[self.index].kind.clone()
                    else {
                        unreachable!("link ops only run on symlink entries")
                    };
                    self.set(Op::Symlink { target, path }, Pending::LinkSymlink);
                }
                Err(e) => self.die(*e, &path),
            },
            Pending::LinkSymlink => match result {
                Ok(_) => self.index += 1,
                Err(e) => self.die(*e, &path),
            },
            Pending::RecordMakedirs(mut md) => {
                if let Some(MakedirsStep::Failed(e, dir)) = md.complete(result) {
                    self.die(e, &dir);
                    return;
                }
                match md.step() {
                    MakedirsStep::Op(op) => self.set(op, Pending::RecordMakedirs(md)),
                    MakedirsStep::Done => {
                        let contents = self.plan.contents_path();
                        let write =
                            WriteFile::new(&contents, &self.plan.contents(), WriteHow::InPlace, "")
                                .with_errors(WriteErrors::UncheckedClose);
                        let (op, writing) = Writing::start(write);
                        self.set(op, Pending::RecordWrite(writing));
                    }
                    MakedirsStep::Failed(..) => unreachable!("reported by complete"),
                }
            }
            Pending::RecordWrite(writing) => match writing.complete(path, result) {
                Written::Op(op, writing) => self.set(op, Pending::RecordWrite(writing)),
                Written::Done => self.exit = Some(0),
                Written::Failed(errno, path) => self.die(errno, &path),
            },
        }
    }

    fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contents_lists_owned_files_and_links_but_not_directories() {
        let owned = parse_contents(b"dir /a\nobj /a/b.py 0123\nsym /a/c -> b.py\n");
        assert_eq!(
            owned.into_iter().collect::<Vec<_>>(),
            vec!["a/b.py".to_string(), "a/c".to_string()]
        );
    }

    #[test]
    fn database_directories_stay_one_component_below_var_db_pkg() {
        assert_eq!(vdb_dir("backports.ssl"), "var/db/pkg/backports.ssl");
        assert_eq!(vdb_dir("../../etc"), "var/db/pkg/_.._.._etc");
        assert_eq!(vdb_dir("a/b c"), "var/db/pkg/a_b_c");
        assert_eq!(vdb_dir(""), "var/db/pkg/_");
    }

    #[test]
    fn collision_feature_names_round_trip() {
        for c in [
            Collision::ProtectOwned,
            Collision::CollisionProtect,
            Collision::Off,
        ] {
            assert_eq!(Collision::from_name(c.name()), Some(c));
        }
        assert_eq!(Collision::from_name("protect"), None);
    }
}
