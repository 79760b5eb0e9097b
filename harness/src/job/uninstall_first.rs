//! pip 23's install over an installed distribution: the uninstall
//! ([`PipUninstall`], which decides at run time what to move aside), then
//! the install and the commit, with a rollback that moves back exactly
//! what the uninstall moved.

use std::sync::Arc;

use super::{Diagnostic, HeldOp, Job, Offer, ScriptJob, SequenceJob, Step};
use crate::fs::parent_of;
use crate::kit::{Next, PipUninstall, Primitive, RemoveStyle, Script, Stashed, Voice};
use crate::op::{Kind, Op, OpResult};

/// Runs the uninstall, then `install` and the commit (the stash removed
/// with `shutil.rmtree`) as a [`SequenceJob`] whose rollback, when the
/// install fails, removes what the install left and renames each stashed
/// path back. A refused or failed uninstall prints pip's line and exits 1
/// before anything is installed.
#[derive(Clone)]
pub struct UninstallFirstJob {
    label: String,
    prefix: Arc<str>,
    uninstall: PipUninstall,
    /// The uninstall's op offered, held until its result comes back.
    held: HeldOp,
    install: Option<Box<dyn Job>>,
    then: Option<SequenceJob>,
    exit: Option<i32>,
    diagnostics: Vec<Diagnostic>,
}

/// The commit of `stashed`: pip's `commit`, each stash directory removed.
fn commit_script(stashed: &Stashed) -> Script {
    let mut commit = Script::new("pip");
    for dir in &stashed.save_dirs {
        commit = commit.remove(dir, RemoveStyle::Rmtree).ignoring_errors();
    }
    commit
}

/// pip's `rollback`: for each move, what is at the original path is
/// removed, the parent made again if it went, the stashed path renamed
/// back; then the commit. Every failure is logged and passed over.
fn rollback_script(stashed: &Stashed) -> Script {
    let mut rollback = Script::new("pip");
    for (original, stash) in &stashed.moves {
        rollback = rollback
            .remove(original, RemoveStyle::Rmtree)
            .ignoring_errors()
            .makedirs(parent_of(original))
            .ignoring_errors()
            .rename(stash, original)
            .ignoring_errors();
    }
    for step in commit_script(stashed).steps {
        rollback.steps.push(step);
    }
    rollback
}

impl UninstallFirstJob {
    /// `uninstall` then `install`, labelled `label`, in the prefix printed
    /// as `prefix`.
    pub fn new(
        label: String,
        prefix: &str,
        uninstall: PipUninstall,
        install: Box<dyn Job>,
    ) -> UninstallFirstJob {
        UninstallFirstJob {
            label,
            prefix: prefix.into(),
            uninstall,
            held: HeldOp::default(),
            install: Some(install),
            then: None,
            exit: None,
            diagnostics: Vec::new(),
        }
    }

    /// Acts on an uninstall that offers no op: the install follows, or
    /// pip's line and exit 1.
    fn settle(&mut self, next: Next) {
        match next {
            Next::Done | Next::Skip => {
                let stashed = self.uninstall.stashed();
                let part = |script: Script| -> Box<dyn Job> {
                    Box::new(ScriptJob::new(
                        self.label.clone(),
                        Arc::new(script),
                        &self.prefix,
                    ))
                };
                let install = self.install.take().expect("the install runs once");
                self.then = Some(SequenceJob::new(
                    self.label.clone(),
                    "pip",
                    vec![install, part(commit_script(&stashed))],
                    Some(part(rollback_script(&stashed))),
                ));
            }
            Next::Fail(failure) => {
                let message = match self.uninstall.refusal() {
                    Some(line) => line.to_string(),
                    None => Voice::of("pip").say(&failure, &self.prefix, None),
                };
                self.diagnostics.push(Diagnostic {
                    message,
                    fatal: true,
                });
                self.exit = Some(1);
            }
            Next::Op(_) | Next::Wait(_) => {}
        }
    }
}

impl Job for UninstallFirstJob {
    fn label(&self) -> &str {
        &self.label
    }

    fn program(&self) -> &'static str {
        "pip"
    }

    fn poll(&mut self, probe: &dyn Fn(&str) -> Option<Kind>) -> Offer {
        if self.held.is_held() {
            return Offer::Op;
        }
        loop {
            if let Some(code) = self.exit {
                return Offer::Exit(code);
            }
            if let Some(then) = &mut self.then {
                return then.poll(probe);
            }
            match self.uninstall.next(probe) {
                Next::Op(op) => return self.held.hold(Step::Op(op)),
                Next::Wait(condition) => return Offer::Wait(condition),
                other => self.settle(other),
            }
        }
    }

    fn offered(&self) -> &Op {
        match &self.then {
            Some(then) if !self.held.is_held() => then.offered(),
            _ => self.held.op(),
        }
    }

    fn writes_rest_of_short_write(&self) -> bool {
        match &self.then {
            Some(then) if !self.held.is_held() => then.writes_rest_of_short_write(),
            _ => true,
        }
    }

    fn complete(&mut self, result: &OpResult) {
        if !self.held.is_held() {
            if let Some(then) = &mut self.then {
                then.complete(result);
            }
            return;
        }
        self.held.release();
        self.uninstall.complete(result);
        // A failure is printed with the op that caused it.
        if let next @ Next::Fail(_) = self.uninstall.next(&|_| None) {
            self.settle(next);
        }
    }

    fn stalled(&mut self) -> i32 {
        match &mut self.then {
            Some(then) => then.stalled(),
            None => 1,
        }
    }

    fn diagnostics(&self) -> &[Diagnostic] {
        match &self.then {
            Some(then) => then.diagnostics(),
            None => &self.diagnostics,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::execution::{execute, JobEnd};
    use crate::fs::ModelFs;
    use crate::kit::WriteHow;
    use crate::schedule::SerialScheduler;

    fn installed() -> ModelFs {
        let setup = Script::new("pip")
            .write_tree(
                "sp",
                &[
                    ("idna/core.py", b"old".as_slice()),
                    (
                        "idna-3.7.dist-info/METADATA",
                        b"Name: idna\nVersion: 3.7\n\n".as_slice(),
                    ),
                    (
                        "idna-3.7.dist-info/RECORD",
                        b"idna/core.py,,\nidna-3.7.dist-info/METADATA,,\nidna-3.7.dist-info/RECORD,,\n"
                            .as_slice(),
                    ),
                ],
                WriteHow::InPlace,
            )
            .shared();
        let mut fs = ModelFs::new();
        let jobs: Vec<Box<dyn Job>> = vec![Box::new(ScriptJob::new("seed".into(), setup, "/p"))];
        execute(jobs, &[vec![]], &mut fs, &mut SerialScheduler, false);
        fs
    }

    fn run(fs: &mut ModelFs, install: Script) -> (JobEnd, Vec<String>) {
        let uninstall = PipUninstall::new("sp", "idna", "cpython-311", "pip[idna]");
        let install = Box::new(ScriptJob::new("pip[idna]".into(), install.shared(), "/p"));
        let job = UninstallFirstJob::new("pip[idna]".into(), "/p", uninstall, install);
        let trace = execute(
            vec![Box::new(job)],
            &[vec![]],
            fs,
            &mut SerialScheduler,
            false,
        );
        let outcome = &trace.outcomes[0];
        let lines = outcome
            .diagnostics
            .iter()
            .map(|(d, _)| d.message.clone())
            .collect();
        (outcome.end.clone(), lines)
    }

    /// The install succeeds: the stash is removed. It fails: what was moved
    /// is moved back, and pip's line is the install's.
    #[test]
    fn commits_or_moves_back_what_it_moved() {
        let mut fs = installed();
        let ok = Script::new("pip").write_tree(
            "sp",
            &[("idna/core.py", b"new".as_slice())],
            WriteHow::InPlace,
        );
        assert_eq!(run(&mut fs, ok).0, JobEnd::Exited(0));
        assert!(fs.inode_of("sp/~dna").is_none());
        assert!(fs.inode_of("sp/~dna-3.7.dist-info").is_none());

        let mut fs = installed();
        let broken = Script::new("pip")
            .write_tree(
                "sp",
                &[("idna/core.py", b"new".as_slice())],
                WriteHow::InPlace,
            )
            .rename("sp/gone", "sp/x");
        let (end, lines) = run(&mut fs, broken);
        assert_eq!(end, JobEnd::Exited(1));
        assert!(
            lines[0].starts_with("ERROR: Could not install packages"),
            "{lines:?}"
        );
        assert!(fs.inode_of("sp/idna-3.7.dist-info/RECORD").is_some());
        assert!(fs.inode_of("sp/~dna").is_none());
        let tree = crate::fs::Fs::tree(&fs);
        let core = tree.get("sp/idna/core.py").expect("moved back");
        assert_eq!(core.digest, Some(crate::content::Digest::of(b"old")));
    }
}
