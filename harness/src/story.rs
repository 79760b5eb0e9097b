//! The race as a short story: only the ops that matter, with their jobs.
//!
//! For a job error, the story holds the failing op; the other job's last
//! mutation of the same path (the racer); the op that let the racer start
//! (what it was waiting for); and the failing job's own earlier op on the
//! parent directory (which is why cp did not stat first).

use serde::{Deserialize, Serialize};

use crate::execution::{Event, ExecutionTrace};
use crate::fault::Fault;
use crate::fs::{parent_of, TreeDiff};
use crate::op::{Op, ResultDisplay};
use crate::oracle::{FailureKind, RecoveryFailure};

/// One line of a story.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoryLine {
    /// 1-based position of the op in the execution.
    pub step: usize,
    /// The job's label.
    pub job: String,
    /// The op and its result, strace-style.
    pub op: String,
}

fn touches(op: &Op, path: &str) -> bool {
    &**op.path() == path || op.path2().is_some_and(|p| &**p == path)
}

/// True when `op` (if it succeeds) brings `path` into existence.
fn creates(op: &Op, path: &str) -> bool {
    match op {
        Op::Open { flags, .. } => flags.create && &**op.path() == path,
        Op::Mkdir { .. } | Op::Symlink { .. } => &**op.path() == path,
        Op::Rename { to, .. } | Op::Link { to, .. } => &**to == path,
        Op::RenameExchange { a, b } => &**a == path || &**b == path,
        _ => false,
    }
}

fn render(events: &[Event], i: usize, labels: &[String], prefix: &str) -> StoryLine {
    let e = &events[i];
    StoryLine {
        step: i + 1,
        job: labels.get(e.job).cloned().unwrap_or_default(),
        op: format!("{} {}", e.op.display_with(prefix), ResultDisplay(&e.result)),
    }
}

/// Renders one event strace-style, with paths under `prefix`.
pub fn render_event(event: &Event, prefix: &str) -> String {
    format!(
        "{} {}",
        event.op.display_with(prefix),
        ResultDisplay(&event.result)
    )
}

/// The story of a failure.
pub fn story(
    trace: &ExecutionTrace,
    kind: &FailureKind,
    diff: &TreeDiff,
    labels: &[String],
    prefix: &str,
) -> Vec<StoryLine> {
    let events = &trace.events;
    let mut picked: Vec<usize> = Vec::new();
    match kind {
        FailureKind::JobFailed {
            job,
            event: Some(f),
            ..
        } => {
            let f = *f;
            let path = events[f].op.path().to_string();
            picked.push(f);
            let racer = (0..f).rev().find(|&i| {
                events[i].job != *job && events[i].op.is_mutation() && touches(&events[i].op, &path)
            });
            if let Some(r) = racer {
                picked.push(r);
                let rj = events[r].job;
                if let Some(first) = (0..r).find(|&i| events[i].job == rj) {
                    let waited = events[first].op.path().to_string();
                    if let Some(en) = (0..first).rev().find(|&i| {
                        events[i].job != rj
                            && events[i].result.is_ok()
                            && creates(&events[i].op, &waited)
                    }) {
                        picked.push(en);
                    }
                }
            }
            // The failing job's own look at the path before it acted (cp's
            // lstat that found nothing, in a merge).
            if let Some(look) = (0..f)
                .rev()
                .find(|&i| events[i].job == *job && touches(&events[i].op, &path))
            {
                picked.push(look);
            }
            let parent = parent_of(&path).to_string();
            let own = (0..f)
                .rev()
                .find(|&i| events[i].job == *job && touches(&events[i].op, &parent));
            if let Some(o) = own {
                picked.push(o);
            }
            if racer.is_none() {
                picked.extend((0..f).rev().filter(|&i| events[i].job == *job).take(3));
            }
        }
        FailureKind::JobFailed {
            job, event: None, ..
        } => {
            picked.extend(
                (0..events.len())
                    .rev()
                    .filter(|&i| events[i].job == *job)
                    .take(3),
            );
        }
        FailureKind::TreeDiffers => {
            for change in diff.changes.iter().take(3) {
                let path = change.path();
                let mut jobs_seen = Vec::new();
                for i in (0..events.len()).rev() {
                    let e = &events[i];
                    if e.op.is_mutation() && touches(&e.op, path) && !jobs_seen.contains(&e.job) {
                        jobs_seen.push(e.job);
                        picked.push(i);
                        if jobs_seen.len() == 2 {
                            break;
                        }
                    }
                }
            }
        }
        FailureKind::Aborted(_) => {}
        FailureKind::Unrecoverable {
            killed,
            after_ops,
            fault,
            kill_event,
            failed,
        } => {
            return crash_story(
                trace,
                (*killed, *after_ops, *fault, *kill_event),
                failed.as_ref(),
                diff,
                labels,
                prefix,
            );
        }
    }
    picked.sort_unstable();
    picked.dedup();
    picked
        .into_iter()
        .map(|i| render(events, i, labels, prefix))
        .collect()
}

/// The story of a prefix a rerun did not recover: the killed job's last op
/// and its death (or the struck op and its fault), then the story of the
/// rerun's failure (the rerun job's failing op and who left the path so),
/// or of the paths that differ.
fn crash_story(
    trace: &ExecutionTrace,
    (killed, after_ops, fault, kill_event): (usize, usize, Option<Fault>, Option<usize>),
    failed: Option<&RecoveryFailure>,
    diff: &TreeDiff,
    labels: &[String],
    prefix: &str,
) -> Vec<StoryLine> {
    let after = match failed {
        Some(f) => FailureKind::JobFailed {
            job: f.job,
            exit: f.exit,
            message: f.message.clone(),
            event: f.event,
        },
        None => FailureKind::TreeDiffers,
    };
    let mut lines = story(trace, &after, diff, labels, prefix);
    if let Some(k) = kill_event {
        if !lines.iter().any(|l| l.step == k + 1) {
            lines.push(render(&trace.events, k, labels, prefix));
        }
    }
    let step = kill_event.map_or(0, |k| k + 1);
    lines.push(StoryLine {
        step,
        job: labels.get(killed).cloned().unwrap_or_default(),
        op: match fault {
            None => format!("killed (SIGKILL) after {after_ops} ops"),
            Some(fault) => format!("{fault} injected into its op after {after_ops} ops"),
        },
    });
    // By step; the kill after the op it follows (a stable sort keeps the
    // kill line, pushed last, after its op).
    lines.sort_by_key(|l| l.step);
    lines
}
