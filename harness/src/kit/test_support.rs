//! Running a primitive alone on the model filesystem, for the kit's tests.

use super::{Next, Primitive};
use crate::content::Blob;
use crate::fs::{Fs, ModelFs};
use crate::op::{Op, OpResult, OpenFlags, Value};

/// A model filesystem holding a file at each of `files`, with their
/// parent directories.
pub fn model_with(files: &[&str]) -> ModelFs {
    let mut fs = ModelFs::new();
    for file in files {
        create_file(&mut fs, file);
    }
    fs
}

/// Creates a one-byte file at `path`, and its parent directories.
pub fn create_file(fs: &mut ModelFs, path: &str) {
    let mut dir = String::new();
    for part in path
        .split('/')
        .collect::<Vec<_>>()
        .split_last()
        .expect("a path")
        .1
    {
        dir = if dir.is_empty() {
            part.to_string()
        } else {
            format!("{dir}/{part}")
        };
        let _ = fs.apply(&Op::Mkdir {
            path: dir.as_str().into(),
            mode: 0o755,
        });
    }
    let Ok(Value::Fd(fd)) = fs.apply(&Op::Open {
        path: path.into(),
        flags: OpenFlags::CREATE_TRUNC,
        mode: 0o644,
    }) else {
        panic!("cannot create {path}")
    };
    let blob = Blob::new(b"x".to_vec());
    fs.apply(&Op::Write {
        fd,
        path: path.into(),
        blob,
    })
    .expect("write");
    fs.apply(&Op::Close {
        fd,
        path: path.into(),
    })
    .expect("close");
}

/// Runs `primitive` on `fs` until it stops offering ops; the ops it ran,
/// as `syscall path`, and where it stopped.
pub fn run_on(fs: &mut ModelFs, primitive: &mut dyn Primitive) -> (Vec<String>, Next) {
    run_on_striking(fs, primitive, &mut |_| None)
}

/// [`run_on`], where `strike` may give an op's result instead of the
/// filesystem (a fault: the op does not run).
pub fn run_on_striking(
    fs: &mut ModelFs,
    primitive: &mut dyn Primitive,
    strike: &mut dyn FnMut(&Op) -> Option<OpResult>,
) -> (Vec<String>, Next) {
    let mut ops = Vec::new();
    loop {
        let probe = |p: &str| fs.probe(p);
        match primitive.next(&probe) {
            Next::Op(op) => {
                ops.push(format!("{} {}", op.syscall(), op.path()));
                let result = strike(&op).unwrap_or_else(|| fs.apply(&op));
                primitive.complete(&result);
            }
            end => return (ops, end),
        }
    }
}
