//! The verdict on one execution: did any command fail (a non-zero exit, or a
//! line of its standard error matching a `--fail-on` pattern), and does the
//! final prefix equal the serial reference?
//!
//! Trees are compared after two normalizations, applied to both sides alike:
//! paths matching a `--volatile` glob are dropped, and unless asked otherwise
//! the content (size and digest) of everything under a `__pycache__`
//! directory is ignored while its kind and mode still count. Real `.pyc`
//! files embed the source's modification time, so an importer's `.pyc` and
//! a copied or pip-compiled one differ in bytes even when equally valid;
//! the model oracle judges bytecode by source digest, real files cannot be
//! judged that way without parsing CPython's format. As in the model
//! ([`crate::oracle::significant`]), a `.pyc` or a `__pycache__` present on
//! one side only is no difference: an absent cache and a valid one behave
//! the same (the next import writes it).

use regex::Regex;
use serde::Serialize;

use super::tracer::JobRun;
use crate::fs::{TreeChange, TreeDiff};
use crate::oracle::significant;
use crate::scenario::Glob;
use crate::Tree;

/// How trees are compared and commands judged.
#[derive(Debug, Clone, Default)]
pub struct Criteria {
    /// Patterns that make a command fail when a line of its stderr matches.
    pub fail_on: Vec<Regex>,
    /// Paths left out of the comparison.
    pub volatile: Vec<Glob>,
    /// Compare `__pycache__` contents byte for byte, and a `.pyc` present
    /// on one side only, too.
    pub strict_pycache: bool,
}

/// Why an execution failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Finding {
    /// A command exited non-zero.
    ExitStatus {
        /// Its job label.
        job: String,
        /// The status.
        status: i32,
    },
    /// A command printed a line matching `--fail-on`.
    Stderr {
        /// Its job label.
        job: String,
        /// The line.
        line: String,
    },
    /// The final prefix differs from the serial reference.
    Tree {
        /// The differences.
        diff: TreeDiff,
    },
}

/// The label of job `job`: A, B, … Z, then J26, J27, …
pub fn label(job: usize) -> String {
    if job < 26 {
        char::from(b'A' + job as u8).to_string()
    } else {
        format!("J{job}")
    }
}

impl Criteria {
    /// The tree as it is compared.
    pub fn normalize(&self, tree: &Tree) -> Tree {
        let pycache = Glob::new("**/__pycache__/**");
        let mut t = tree.clone();
        t.retain(|p, _| !self.volatile.iter().any(|g| g.matches(p)));
        if !self.strict_pycache {
            let paths: Vec<String> = t
                .iter()
                .filter(|(p, _)| pycache.matches(p))
                .map(|(p, _)| p.clone())
                .collect();
            for p in paths {
                if let Some(mut e) = t.remove(&p) {
                    e.size = 0;
                    e.digest = None;
                    t.insert(p, e);
                }
            }
        }
        t
    }

    /// Every reason the execution failed, in job order, the tree last.
    pub fn judge(&self, jobs: &[JobRun], reference: &Tree, actual: &Tree) -> Vec<Finding> {
        let mut findings = Vec::new();
        for (i, j) in jobs.iter().enumerate() {
            if j.status != 0 {
                findings.push(Finding::ExitStatus {
                    job: label(i),
                    status: j.status,
                });
            }
            for line in j.stderr.lines() {
                if self.fail_on.iter().any(|r| r.is_match(line)) {
                    findings.push(Finding::Stderr {
                        job: label(i),
                        line: line.to_string(),
                    });
                }
            }
        }
        let mut diff = self.normalize(actual).diff_from(&self.normalize(reference));
        if !self.strict_pycache {
            diff = significant(diff);
        }
        if !diff.is_empty() {
            findings.push(Finding::Tree {
                diff: shown_unnormalized(diff, reference, actual, !self.strict_pycache),
            });
        }
        findings
    }
}

/// The changes found between normalized trees, shown with the entries as they
/// really are (a `.pyc` keeps its real size and mode in the report). Unless
/// bytecode is compared (`loose_bytecode` false), a bytecode file's digest is
/// left out: its header holds its source's modification time, which comes
/// from the wall clock when cp sets it only after Python has read it, so it
/// would differ from run to run of the same schedule.
fn shown_unnormalized(
    diff: TreeDiff,
    reference: &Tree,
    actual: &Tree,
    loose_bytecode: bool,
) -> TreeDiff {
    let pycache = Glob::new("**/__pycache__/**");
    let show = |t: &Tree, p: &str, fallback: String| {
        t.get(p).map_or(fallback, |e| {
            if loose_bytecode && pycache.matches(p) && e.digest.is_some() {
                let mut e = e.clone();
                e.digest = None;
                format!("{e}(bytecode, not compared)")
            } else {
                e.to_string()
            }
        })
    };
    let changes = diff
        .changes
        .into_iter()
        .map(|c| match c {
            TreeChange::Added { path, actual: a } => TreeChange::Added {
                actual: show(actual, &path, a),
                path,
            },
            TreeChange::Missing { path, expected } => TreeChange::Missing {
                expected: show(reference, &path, expected),
                path,
            },
            TreeChange::Changed {
                path,
                expected,
                actual: a,
            } => TreeChange::Changed {
                expected: show(reference, &path, expected),
                actual: show(actual, &path, a),
                path,
            },
        })
        .collect();
    TreeDiff { changes }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::Digest;
    use crate::fs::Entry;
    use crate::op::Kind;

    fn file(bytes: &[u8]) -> Entry {
        Entry {
            kind: Kind::File,
            mode: 0o644,
            size: bytes.len() as u64,
            digest: Some(Digest::of(bytes)),
            target: None,
            bytecode_source: None,
        }
    }

    fn run(status: i32, stderr: &str) -> JobRun {
        JobRun::exited(status, stderr)
    }

    #[test]
    fn pycache_content_and_one_sided_bytecode_are_ignored_and_volatile_paths_drop() {
        let mut reference = Tree::new();
        reference.insert("M", Entry::dir(0o755));
        reference.insert("M/__pycache__", Entry::dir(0o755));
        reference.insert("M/__pycache__/a.pyc", file(b"one"));
        reference.insert("RECORD", file(b"r1"));
        let mut actual = reference.clone();
        actual.insert("M/__pycache__/a.pyc", file(b"two"));
        actual.insert("RECORD", file(b"r2"));
        let loose = Criteria {
            volatile: vec![Glob::new("RECORD")],
            ..Default::default()
        };
        assert!(loose.judge(&[run(0, "")], &reference, &actual).is_empty());
        let strict = Criteria {
            strict_pycache: true,
            ..loose.clone()
        };
        assert_eq!(strict.judge(&[run(0, "")], &reference, &actual).len(), 1);
        // A .pyc missing on one side is no difference, as in the model,
        // unless bytecode is compared strictly.
        actual.remove("M/__pycache__/a.pyc");
        assert!(loose.judge(&[run(0, "")], &reference, &actual).is_empty());
        let found = strict.judge(&[run(0, "")], &reference, &actual);
        let [Finding::Tree { diff }] = &found[..] else {
            panic!("{found:?}")
        };
        assert_eq!(
            diff.changes[0].to_string(),
            "- M/__pycache__/a.pyc  (file 0644 3 bytes 7692c3ad3540)"
        );
        // A .pyc that is not bytecode content-wise but whose mode differs
        // is reported with its real size, not the normalized one, and no
        // digest (its header holds a wall-clock time).
        let mut moded = reference.clone();
        moded.insert(
            "M/__pycache__/a.pyc",
            Entry {
                mode: 0o600,
                ..file(b"two")
            },
        );
        let found = loose.judge(&[run(0, "")], &reference, &moded);
        let [Finding::Tree { diff }] = &found[..] else {
            panic!("{found:?}")
        };
        assert_eq!(
            diff.changes[0].to_string(),
            "~ M/__pycache__/a.pyc  (file 0644 3 bytes (bytecode, not compared) -> file 0600 3 bytes (bytecode, not compared))"
        );
    }

    #[test]
    fn exit_status_and_stderr_patterns_fail_their_job() {
        let t = Tree::new();
        let c = Criteria {
            fail_on: vec![Regex::new("File exists").unwrap()],
            ..Default::default()
        };
        let f = c.judge(&[run(0, "ok\n"), run(1, "cp: x: File exists\n")], &t, &t);
        assert_eq!(
            f,
            [
                Finding::ExitStatus {
                    job: "B".into(),
                    status: 1
                },
                Finding::Stderr {
                    job: "B".into(),
                    line: "cp: x: File exists".into()
                }
            ]
        );
        assert!(c.judge(&[run(0, "fine\n")], &t, &t).is_empty());
        assert_eq!(label(0), "A");
        assert_eq!(label(27), "J27");
    }
}
