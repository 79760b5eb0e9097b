//! The model and the kernel agree on long names, long paths and long
//! symlink targets (issue 16): the same ops, run in the same order on
//! `ModelFs` and `RealFs` through the `Fs` trait, give the same results at
//! every boundary (`NAME_MAX` 255/256, `PATH_MAX` 4095/4096, a symlink
//! target of 4095/4096/10,000 bytes), and leave the same trees.

use std::sync::Arc;

use prefixrace::internals::fs::{Fs, ModelFs, RealFs};
use prefixrace::internals::limits::{NAME_MAX, PATH_MAX, SYMLINK_TARGET_MAX};
use prefixrace::internals::op::{Errno, Op, OpenFlags};

fn p(s: &str) -> Arc<str> {
    s.into()
}

/// The directory levels every deep path goes through: 20 names of 200
/// bytes, 4,020 bytes with their slashes.
fn levels() -> Vec<String> {
    (0..20).map(|i| format!("{i:0>200}")).collect()
}

/// A path of exactly `len` bytes whose parent directories all exist (after
/// [`setup`]): the levels, then one name of `len - 4,020` bytes.
fn deep(len: usize) -> String {
    let dirs = levels().join("/");
    let path = format!("{dirs}/{}", "n".repeat(len - dirs.len() - 1));
    assert_eq!(path.len(), len);
    path
}

/// A symlink target of exactly `len` bytes, in components of 200.
fn target(len: usize) -> String {
    let mut t = String::new();
    while t.len() < len {
        if !t.is_empty() {
            t.push('/');
        }
        let n = (len - t.len()).min(200);
        t.push_str(&"t".repeat(n));
    }
    assert_eq!(t.len(), len);
    t
}

fn setup() -> Vec<Op> {
    let mut ops = vec![
        Op::Mkdir {
            path: p("d"),
            mode: 0o755,
        },
        Op::Mkdir {
            path: p("d2"),
            mode: 0o755,
        },
        Op::Open {
            path: p("f"),
            flags: OpenFlags::CREATE_NEW,
            mode: 0o644,
        },
    ];
    let mut path = String::new();
    for level in levels() {
        if !path.is_empty() {
            path.push('/');
        }
        path.push_str(&level);
        ops.push(Op::Mkdir {
            path: p(&path),
            mode: 0o755,
        });
    }
    ops
}

/// Every kind of op the model has, on `path` (as the op's only or last path).
fn every_op_on(path: &str) -> Vec<Op> {
    let path = p(path);
    vec![
        Op::Mkdir {
            path: path.clone(),
            mode: 0o755,
        },
        Op::Lstat { path: path.clone() },
        Op::Stat { path: path.clone() },
        Op::Readdir { path: path.clone() },
        Op::Chmod {
            path: path.clone(),
            mode: 0o700,
        },
        Op::Rename {
            from: path.clone(),
            to: p("renamed"),
        },
        Op::Rename {
            from: p("renamed"),
            to: path.clone(),
        },
        Op::Rmdir { path: path.clone() },
        Op::Open {
            path: path.clone(),
            flags: OpenFlags::CREATE_NEW,
            mode: 0o644,
        },
        Op::Open {
            path: path.clone(),
            flags: OpenFlags::READ,
            mode: 0,
        },
        Op::Open {
            path: path.clone(),
            flags: OpenFlags::CREATE_TRUNC,
            mode: 0o644,
        },
        Op::Rename {
            from: p("d2"),
            to: path.clone(),
        },
        Op::Unlink { path: path.clone() },
        Op::Symlink {
            target: p("t"),
            path: path.clone(),
        },
        Op::Lstat { path: path.clone() },
        Op::Unlink { path },
    ]
}

/// The boundary cases: names, paths and targets just inside and just past
/// each limit, and the orders in which the kernel judges them.
fn boundary_ops() -> Vec<Op> {
    let long = "n".repeat(NAME_MAX + 1);
    let longest = "n".repeat(NAME_MAX);
    let mut paths = vec![
        longest.clone(),
        long.clone(),
        format!("d/{longest}"),
        format!("d/{long}"),
        format!("nope/{long}"),
        format!("f/{long}"),
        format!("{long}/x"),
        format!("{long}/.."),
        format!("nope/{long}/x"),
        deep(PATH_MAX - 1),
        deep(PATH_MAX),
        deep(PATH_MAX + 1),
        format!("/{}", "a/".repeat(PATH_MAX / 2)),
        format!("{}/.", "a".repeat(PATH_MAX)),
        "q/".repeat(PATH_MAX / 2),
        format!("{}q", "q/".repeat(PATH_MAX / 2 - 1)),
    ];
    paths.dedup();
    let mut ops: Vec<Op> = paths.iter().flat_map(|path| every_op_on(path)).collect();
    for len in [
        SYMLINK_TARGET_MAX - 1,
        SYMLINK_TARGET_MAX,
        SYMLINK_TARGET_MAX + 1,
        10_000,
    ] {
        ops.push(Op::Symlink {
            target: p(&target(len)),
            path: p("s"),
        });
        ops.push(Op::Lstat { path: p("s") });
        ops.push(Op::Stat { path: p("s") });
        ops.push(Op::Unlink { path: p("s") });
    }
    ops.push(Op::Symlink {
        target: p(""),
        path: p("s"),
    });
    ops.push(Op::Symlink {
        target: p(&target(10_000)),
        path: p(&deep(PATH_MAX)),
    });
    // rename judges both paths' parents before either final name.
    for (from, to) in [
        (long.clone(), "nope/x".to_string()),
        ("missing".to_string(), long.clone()),
        (long.clone(), long.clone()),
        ("d".to_string(), long.clone()),
        (long.clone(), "d".to_string()),
        (format!("d/{long}"), format!("nope/{long}")),
    ] {
        ops.push(Op::Rename {
            from: p(&from),
            to: p(&to),
        });
    }
    ops
}

/// Runs `ops` on both filesystems, op by op, and names every op whose
/// results differ.
fn disagreements(ops: &[Op]) -> Vec<String> {
    let mut model = ModelFs::new();
    let mut real = RealFs::new().unwrap();
    let mut found = Vec::new();
    for op in ops {
        let (m, r) = (model.apply(op), real.apply(op));
        if m != r {
            let mut shown = op.to_string();
            if shown.len() > 160 {
                shown = format!("{}…{}", &shown[..80], &shown[shown.len() - 60..]);
            }
            found.push(format!("{shown}: model {m:?}, real {r:?}"));
        }
    }
    if found.is_empty() {
        assert_eq!(model.tree(), real.tree(), "the trees differ");
    }
    found
}

#[test]
fn model_and_kernel_agree_at_every_name_path_and_target_limit() {
    let mut ops = setup();
    ops.extend(boundary_ops());
    let found = disagreements(&ops);
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn the_limits_are_where_linux_puts_them() {
    // A canary that the cases above are at the boundaries: just inside
    // succeeds and just past fails, on both filesystems.
    let mut model = ModelFs::new();
    let mut real = RealFs::new().unwrap();
    for op in setup() {
        assert!(model.apply(&op).is_ok() && real.apply(&op).is_ok());
    }
    let mkdir = |path: String| Op::Mkdir {
        path: p(&path),
        mode: 0o755,
    };
    let symlink = |len: usize| Op::Symlink {
        target: p(&target(len)),
        path: p(&format!("s{len}")),
    };
    let expected = [
        (mkdir("n".repeat(NAME_MAX)), Ok(())),
        (mkdir("n".repeat(NAME_MAX + 1)), Err(Errno::ENAMETOOLONG)),
        (mkdir(deep(PATH_MAX - 1)), Ok(())),
        (mkdir(deep(PATH_MAX)), Err(Errno::ENAMETOOLONG)),
        (symlink(SYMLINK_TARGET_MAX - 1), Ok(())),
        (symlink(SYMLINK_TARGET_MAX), Err(Errno::ENAMETOOLONG)),
        (symlink(10_000), Err(Errno::ENAMETOOLONG)),
    ];
    for (op, want) in expected {
        for fs in [&mut model as &mut dyn Fs, &mut real] {
            assert_eq!(fs.apply(&op).map(|_| ()), want, "{}", &op.to_string()[..40]);
        }
    }
}
