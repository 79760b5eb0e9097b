//! The oracle: the verdict for one execution.
//!
//! The reference is a serial run in dependency order. An execution fails when
//! any job fails, or when its final tree differs from the reference outside
//! volatile paths. `.pyc` files are judged the way CPython judges them: one
//! compiled from the source bytes now present is valid; an invalid one is
//! equivalent to an absent one (the next import recompiles it), so it is
//! dropped from the comparison and reported as a note. For the same reason a
//! `.pyc` (or `__pycache__` directory) present on one side only is not a
//! difference: an absent cache and a valid one behave the same.
//!
//! A `.pyc` a package ships (numpy's `conv_template.cpython-311.pyc`) is a
//! package file like any other, not a cache an importer wrote: at a path some
//! payload lists, a `.pyc` whose bytes are not bytecode the model compiled is
//! compared as a file and never reported stale.

use std::collections::BTreeSet;

use crate::error::{Error, Result};
use crate::execution::ExecutionTrace;
use crate::fs::{split_parent, ModelFs, Tree, TreeChange, TreeDiff};
use crate::scenario::{Glob, PayloadKind, Scenario};
use crate::schedule::SerialScheduler;
use crate::setup::Setup;

/// Why an execution failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FailureKind {
    /// A job exited non-zero.
    JobFailed {
        /// The job.
        job: usize,
        /// Its exit status.
        exit: i32,
        /// The first line it printed, exactly as the real tool prints it.
        message: String,
        /// The event that made it print that line, if any.
        event: Option<usize>,
    },
    /// Every job succeeded but the prefix ends differently from the reference.
    TreeDiffers,
    /// The execution could not run to the end (a replay token that does not fit).
    Aborted(String),
    /// A job was killed (`--faults crash`, see [`crate::crash`]), or one
    /// of its ops struck by a fault (`--faults enospc` …, see
    /// [`crate::fault`]), and rerunning the build did not bring the prefix
    /// back to the serial reference: a rerun job failed, or the prefix
    /// differs.
    Unrecoverable {
        /// The killed job, or the job whose op was struck.
        killed: usize,
        /// How many of its ops it ran before the kill or the struck op.
        after_ops: usize,
        /// The fault that struck; `None` for a kill.
        fault: Option<crate::fault::Fault>,
        /// The event of the killed job's last op before the kill, if it ran
        /// one; or of the struck op.
        kill_event: Option<usize>,
        /// The rerun job that failed; `None` when the rerun succeeded but
        /// the prefix differs from the reference.
        failed: Option<RecoveryFailure>,
    },
}

/// A job of the recovery that failed (see [`FailureKind::Unrecoverable`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryFailure {
    /// The job, as an index into the crashed execution's outcomes (the
    /// rerun jobs follow the crashed run's own).
    pub job: usize,
    /// Its exit status.
    pub exit: i32,
    /// The first line it printed.
    pub message: String,
    /// The event that made it print that line, if any.
    pub event: Option<usize>,
}

impl FailureKind {
    /// The class used in JSON and matrices.
    pub fn class(&self) -> &'static str {
        match self {
            FailureKind::JobFailed { .. } => "job-error",
            FailureKind::TreeDiffers => "order-dependent-tree",
            FailureKind::Aborted(_) => "aborted",
            FailureKind::Unrecoverable { .. } => "unrecoverable",
        }
    }
}

/// The verdict for one execution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judgement {
    /// `None` when the execution passed.
    pub failure: Option<FailureKind>,
    /// Differences from the reference, after normalization.
    pub diff: TreeDiff,
    /// Stale-bytecode notes and similar observations that do not fail.
    pub notes: Vec<String>,
}

/// Judges executions of one setup.
#[derive(Debug, Clone)]
pub struct Oracle {
    reference: Tree,
    /// The reference as it ran, before normalization: an execution that
    /// ends with exactly this tree normalizes to `reference` with
    /// `reference_notes`, so [`Oracle::judge`] need not normalize it again.
    raw_reference: Tree,
    /// The notes normalizing `raw_reference` gave.
    reference_notes: Vec<String>,
    reference_steps: usize,
    volatile: Vec<Glob>,
    /// The `.pyc` paths packages ship in their payloads (see [`normalize_shipped`]).
    shipped: BTreeSet<String>,
}

impl Oracle {
    /// Runs the serial reference of `setup` on a model filesystem.
    pub fn new(setup: &Setup) -> Result<Oracle> {
        // Nothing asks the reference run's state key.
        let mut fs = ModelFs::new();
        fs.set_keyed(false);
        let trace = setup.run(&mut fs, &mut SerialScheduler, false);
        if let Some(o) = trace.outcomes.iter().find(|o| o.failed()) {
            let msg = o
                .diagnostics
                .first()
                .map(|(d, _)| d.message.clone())
                .unwrap_or_else(|| "no message".into());
            return Err(Error::Usage(setup.scenario.origin.qualify(format!(
                "the serial reference run of {} under {} fails, so nothing can be compared: {}: {msg}",
                setup.scenario.name, setup.strategy, o.label
            ))));
        }
        let volatile = setup.scenario.volatile.clone();
        let shipped = shipped_bytecode(&setup.scenario);
        let (reference, reference_notes) = normalize_shipped(&trace.tree, &volatile, &shipped);
        Ok(Oracle {
            reference,
            raw_reference: trace.tree,
            reference_notes,
            reference_steps: trace.schedule.choices.len(),
            volatile,
            shipped,
        })
    }

    /// The normalized reference tree.
    pub fn reference(&self) -> &Tree {
        &self.reference
    }

    /// The serial reference run's final tree, before normalization: what
    /// most executions end with.
    pub fn raw_reference(&self) -> &Tree {
        &self.raw_reference
    }

    /// Number of ops of the serial reference run.
    pub fn reference_steps(&self) -> usize {
        self.reference_steps
    }

    /// The verdict for `trace`.
    pub fn judge(&self, trace: &ExecutionTrace) -> Judgement {
        // Most executions end exactly where the reference did: comparing the
        // raw trees (in order, no allocation) spares normalizing and diffing.
        let (diff, notes) = if trace.tree == self.raw_reference {
            (TreeDiff::default(), self.reference_notes.clone())
        } else {
            let (tree, notes) = normalize_shipped(&trace.tree, &self.volatile, &self.shipped);
            (significant(tree.diff_from(&self.reference)), notes)
        };
        let failure = if let Some(reason) = &trace.aborted {
            Some(FailureKind::Aborted(reason.clone()))
        } else if let Some((job, o)) = trace.outcomes.iter().enumerate().find(|(_, o)| o.failed()) {
            let (message, event) = o
                .diagnostics
                .iter()
                .find(|(d, _)| d.fatal)
                .map(|(d, e)| (d.message.clone(), *e))
                .unwrap_or_else(|| (format!("{} exited non-zero", o.label), None));
            let exit = match o.end {
                crate::execution::JobEnd::Exited(c) => c,
                crate::execution::JobEnd::Skipped => 0,
            };
            Some(FailureKind::JobFailed {
                job,
                exit,
                message,
                event,
            })
        } else if !diff.is_empty() {
            Some(FailureKind::TreeDiffers)
        } else {
            None
        };
        Judgement {
            failure,
            diff,
            notes,
        }
    }
}

/// Keeps the changes that matter: a bytecode cache present on one side only
/// (a `.pyc` or a `__pycache__` directory) is equivalent to an absent one.
pub fn significant(diff: TreeDiff) -> TreeDiff {
    let is_cache = |p: &str| pyc_source_path(p).is_some() || split_parent(p).1 == "__pycache__";
    TreeDiff {
        changes: diff
            .changes
            .into_iter()
            .filter(|c| !matches!(c, TreeChange::Added { path, .. } | TreeChange::Missing { path, .. } if is_cache(path)))
            .collect(),
    }
}

/// The `.pyc` paths the packages of `scenario` (and its initial prefix) ship
/// in their payloads.
pub fn shipped_bytecode(scenario: &Scenario) -> BTreeSet<String> {
    scenario
        .packages
        .iter()
        .chain(&scenario.initial)
        .flat_map(|p| &p.payload)
        .filter(|e| matches!(e.kind, PayloadKind::File(_)) && pyc_source_path(&e.path).is_some())
        .map(|e| e.path.to_string())
        .collect()
}

/// Drops volatile paths and invalid `.pyc` files; returns notes on the latter.
pub fn normalize(tree: &Tree, volatile: &[Glob]) -> (Tree, Vec<String>) {
    normalize_shipped(tree, volatile, &BTreeSet::new())
}

/// [`normalize`], where a `.pyc` at a `shipped` path that holds no bytecode
/// the model compiled (the package's own bytes) is a package file: kept and
/// compared, never noted as stale.
pub fn normalize_shipped(
    tree: &Tree,
    volatile: &[Glob],
    shipped: &BTreeSet<String>,
) -> (Tree, Vec<String>) {
    let mut out = tree.clone();
    out.retain(|p, _| !volatile.iter().any(|g| g.matches(p)));
    let mut notes = Vec::new();
    let mut stale = Vec::new();
    for (path, entry) in out.iter() {
        let Some(source) = pyc_source_path(path) else {
            continue;
        };
        if entry.bytecode_source.is_none() && shipped.contains(path.as_str()) {
            continue;
        }
        let valid = match (
            entry.bytecode_source,
            out.get(&source).and_then(|s| s.digest),
        ) {
            (Some(compiled_from), Some(now)) => compiled_from == now,
            _ => false,
        };
        if !valid {
            stale.push(path.clone());
            let why = if out.get(&source).is_none() {
                "its source is missing"
            } else {
                "it was compiled from other bytes than the source now holds"
            };
            notes.push(format!(
                "stale bytecode {path}: {why}; the next import recompiles it"
            ));
        }
    }
    for p in stale {
        out.remove(&p);
    }
    (out, notes)
}

/// For `D/__pycache__/NAME.TAG.pyc`, the source `D/NAME.py`.
pub fn pyc_source_path(path: &str) -> Option<String> {
    let (dir, file) = split_parent(path);
    let stem = file.strip_suffix(".pyc")?;
    let (pkg_dir, cache) = split_parent(dir);
    if cache != "__pycache__" {
        return None;
    }
    let name = stem.split('.').next()?;
    Some(if pkg_dir.is_empty() {
        format!("{name}.py")
    } else {
        format!("{pkg_dir}/{name}.py")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::{Blob, Digest};
    use crate::fs::Entry;
    use crate::op::Kind;

    fn file(bytes: &[u8]) -> Entry {
        let b = Blob::new(bytes.to_vec());
        Entry {
            kind: Kind::File,
            mode: 0o644,
            size: b.len(),
            digest: Some(b.digest()),
            target: None,
            bytecode_source: None,
        }
    }

    fn pyc(src: &[u8]) -> Entry {
        let b = Blob::bytecode(&Digest::of(src));
        Entry {
            bytecode_source: Some(Digest::of(src)),
            ..file(b.bytes())
        }
    }

    #[test]
    fn a_pyc_is_valid_only_for_the_source_bytes_now_present() {
        let mut t = Tree::new();
        t.insert("m/__init__.py", file(b"new"));
        t.insert("m/__pycache__/__init__.cpython-39.pyc", pyc(b"old"));
        t.insert("m/a.py", file(b"a"));
        t.insert("m/__pycache__/a.cpython-39.pyc", pyc(b"a"));
        let (n, notes) = normalize(&t, &[]);
        assert!(n.get("m/__pycache__/__init__.cpython-39.pyc").is_none());
        assert!(n.get("m/__pycache__/a.cpython-39.pyc").is_some());
        assert_eq!(notes.len(), 1);
        assert!(notes[0].contains("stale bytecode m/__pycache__/__init__.cpython-39.pyc"));
    }

    /// A `.pyc` a payload ships (bytes no importer compiled) is a package
    /// file: kept, compared, never stale; the same bytes at a path no payload
    /// lists are still judged as a cache.
    #[test]
    fn a_shipped_pyc_is_a_package_file_not_stale_bytecode() {
        let mut t = Tree::new();
        t.insert("d/conv_template.py", file(b"source"));
        t.insert(
            "d/__pycache__/conv_template.cpython-311.pyc",
            file(b"real bytecode"),
        );
        t.insert(
            "d/__pycache__/other.cpython-311.pyc",
            file(b"real bytecode"),
        );
        let shipped: BTreeSet<String> = ["d/__pycache__/conv_template.cpython-311.pyc".to_string()]
            .into_iter()
            .collect();
        let (n, notes) = normalize_shipped(&t, &[], &shipped);
        assert!(n
            .get("d/__pycache__/conv_template.cpython-311.pyc")
            .is_some());
        assert!(n.get("d/__pycache__/other.cpython-311.pyc").is_none());
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].contains("other.cpython-311.pyc"));
    }

    #[test]
    fn pyc_paths_map_to_their_sources() {
        assert_eq!(
            pyc_source_path("a/b/__pycache__/c.cpython-39.pyc").as_deref(),
            Some("a/b/c.py")
        );
        assert_eq!(pyc_source_path("a/b/c.pyc"), None);
    }

    /// An execution that ends with the reference's raw tree is judged as
    /// normalizing and diffing it would: no difference, the reference's notes.
    #[test]
    fn the_raw_reference_shortcut_judges_as_normalizing_would() {
        use crate::execution::ExecutionTrace;
        use crate::schedule::Schedule;
        let mut raw = Tree::new();
        raw.insert("m/a.py", file(b"a"));
        raw.insert("m/__pycache__/a.cpython-39.pyc", pyc(b"old"));
        let (reference, reference_notes) = normalize(&raw, &[]);
        let oracle = Oracle {
            reference,
            raw_reference: raw.clone(),
            reference_notes,
            reference_steps: 0,
            volatile: Vec::new(),
            shipped: BTreeSet::new(),
        };
        let trace = |tree: Tree| ExecutionTrace {
            events: Vec::new(),
            schedule: Schedule {
                choices: Vec::new(),
            },
            outcomes: Vec::new(),
            tree,
            aborted: None,
        };
        let slow = |tree: &Tree| {
            let (t, notes) = normalize(tree, &[]);
            (significant(t.diff_from(oracle.reference())), notes)
        };
        let same = oracle.judge(&trace(raw.clone()));
        assert_eq!((same.diff.clone(), same.notes.clone()), slow(&raw));
        assert_eq!(same.notes.len(), 1, "the stale .pyc is noted");
        assert!(same.failure.is_none());
        let mut other = raw.clone();
        other.insert("m/b.py", file(b"b"));
        let differs = oracle.judge(&trace(other.clone()));
        assert_eq!((differs.diff.clone(), differs.notes.clone()), slow(&other));
        assert_eq!(differs.failure, Some(FailureKind::TreeDiffers));
    }
}
