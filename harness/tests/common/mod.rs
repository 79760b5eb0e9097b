//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::sync::Arc;

use prefixrace::internals::content::Blob;
use prefixrace::internals::execution::{execute, Event, ExecutionTrace};
use prefixrace::internals::fs::{Fs, ModelFs, Tree};
use prefixrace::internals::job::Job;
use prefixrace::internals::op::{Kind, Op, OpResult, OpenFlags};
use prefixrace::internals::schedule::SerialScheduler;

/// A filesystem that runs `inject` (as another process would) right before
/// the first op for which `trigger` is true.
pub struct Injecting<F: Fn(&Op) -> bool> {
    pub inner: ModelFs,
    pub trigger: F,
    pub inject: Vec<Op>,
    pub fired: bool,
}

impl<F: Fn(&Op) -> bool> Injecting<F> {
    pub fn new(inner: ModelFs, trigger: F, inject: Vec<Op>) -> Self {
        Injecting {
            inner,
            trigger,
            inject,
            fired: false,
        }
    }
}

impl<F: Fn(&Op) -> bool + Send> Fs for Injecting<F> {
    fn apply(&mut self, op: &Op) -> OpResult {
        if !self.fired && (self.trigger)(op) {
            self.fired = true;
            for i in std::mem::take(&mut self.inject) {
                self.inner.apply(&i).expect("injected op succeeds");
            }
        }
        self.inner.apply(op)
    }
    fn probe(&self, path: &str) -> Option<Kind> {
        self.inner.probe(path)
    }
    fn tree(&self) -> Tree {
        self.inner.tree()
    }
}

/// Runs one job alone, serially, recording every event.
pub fn run_alone(job: Box<dyn Job>, fs: &mut dyn Fs) -> ExecutionTrace {
    execute(vec![job], &[vec![]], fs, &mut SerialScheduler, true)
}

/// The events rendered strace-style without a prefix.
pub fn rendered(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .map(|e| prefixrace::internals::story::render_event(e, ""))
        .collect()
}

pub fn p(s: &str) -> Arc<str> {
    s.into()
}

/// Creates `path` (and its parents) as a file with `bytes` in `fs`.
pub fn put_file(fs: &mut ModelFs, path: &str, bytes: &[u8]) {
    mkdirs(fs, prefixrace::internals::fs::parent_of(path));
    let fd = match fs.apply(&Op::Open {
        path: p(path),
        flags: OpenFlags::CREATE_TRUNC,
        mode: 0o644,
    }) {
        Ok(prefixrace::internals::op::Value::Fd(fd)) => fd,
        other => panic!("open {path}: {other:?}"),
    };
    fs.apply(&Op::Write {
        fd,
        path: p(path),
        blob: Blob::new(bytes.to_vec()),
    })
    .unwrap();
    fs.apply(&Op::Close { fd, path: p(path) }).unwrap();
}

/// Creates directory `path` and its parents in `fs`.
pub fn mkdirs(fs: &mut ModelFs, path: &str) {
    let mut acc = String::new();
    for comp in path.split('/').filter(|c| !c.is_empty()) {
        if !acc.is_empty() {
            acc.push('/');
        }
        acc.push_str(comp);
        let _ = fs.apply(&Op::Mkdir {
            path: p(&acc),
            mode: 0o755,
        });
    }
}
