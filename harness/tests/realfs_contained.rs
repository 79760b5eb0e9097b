//! RealFs on its own: containment, cleanup, descriptor numbering, modes.

use std::path::PathBuf;
use std::sync::Arc;

use prefixrace::internals::content::Blob;
use prefixrace::internals::fs::{Fs, RealFs};
use prefixrace::internals::op::{Errno, Kind, Op, OpenFlags, Value};

fn p(s: &str) -> Arc<str> {
    s.into()
}

fn open(fs: &mut RealFs, path: &str, flags: OpenFlags) -> Result<Value, Errno> {
    fs.apply(&Op::Open {
        path: p(path),
        flags,
        mode: 0o666,
    })
}

/// A sibling of the RealFs root that must never change.
struct Canary {
    dir: PathBuf,
}

impl Canary {
    fn beside(fs: &RealFs) -> Canary {
        let parent = fs.root_path().parent().expect("the root has a parent");
        let dir = parent.join(format!(
            "canary-{}",
            fs.root_path().file_name().unwrap().to_string_lossy()
        ));
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("file"), b"canary").unwrap();
        Canary { dir }
    }

    fn assert_untouched(&self) {
        let names: Vec<_> = std::fs::read_dir(&self.dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["file"], "something was created beside the root");
        assert_eq!(std::fs::read(self.dir.join("file")).unwrap(), b"canary");
    }
}

impl Drop for Canary {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn escapes_fail_with_exdev_and_touch_nothing_outside() {
    let mut fs = RealFs::new().unwrap();
    let canary = Canary::beside(&fs);
    let name = canary
        .dir
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let up = format!("../{name}");
    let abs = canary.dir.display().to_string();
    for (target, link) in [(up.as_str(), "up"), (abs.as_str(), "abs")] {
        fs.apply(&Op::Symlink {
            target: p(target),
            path: p(link),
        })
        .unwrap();
        let through = format!("{link}/file");
        let new = format!("{link}/new");
        assert_eq!(
            open(&mut fs, &through, OpenFlags::CREATE_TRUNC),
            Err(Errno::EXDEV)
        );
        assert_eq!(open(&mut fs, &through, OpenFlags::READ), Err(Errno::EXDEV));
        assert_eq!(
            open(&mut fs, &new, OpenFlags::CREATE_NEW),
            Err(Errno::EXDEV)
        );
        assert_eq!(
            fs.apply(&Op::Mkdir {
                path: p(&new),
                mode: 0o777
            }),
            Err(Errno::EXDEV)
        );
        assert_eq!(
            fs.apply(&Op::Chmod {
                path: p(&through),
                mode: 0o777
            }),
            Err(Errno::EXDEV)
        );
        assert_eq!(
            fs.apply(&Op::Unlink { path: p(&through) }),
            Err(Errno::EXDEV)
        );
        assert_eq!(
            fs.apply(&Op::Rename {
                from: p(&through),
                to: p("stolen")
            }),
            Err(Errno::EXDEV)
        );
        // A hard link from outside, or into outside, or an exchange
        // with an entry outside: refused, nothing outside linked.
        assert_eq!(
            fs.apply(&Op::Link {
                from: p(&through),
                to: p("stolen")
            }),
            Err(Errno::EXDEV)
        );
        assert_eq!(
            fs.apply(&Op::Link {
                from: p("up"),
                to: p(&new)
            }),
            Err(Errno::EXDEV)
        );
        assert_eq!(
            fs.apply(&Op::RenameExchange {
                a: p(link),
                b: p(&through)
            }),
            Err(Errno::EXDEV)
        );
        assert_eq!(fs.apply(&Op::Readdir { path: p(link) }), Err(Errno::EXDEV));
        assert_eq!(fs.apply(&Op::Stat { path: p(link) }), Err(Errno::EXDEV));
        assert!(matches!(
            fs.apply(&Op::Lstat { path: p(link) }),
            Ok(Value::Meta(m)) if m.kind == Kind::Symlink
        ));
    }
    // Linking a symlink that leads outside links the symlink itself
    // (`linkat` without `AT_SYMLINK_FOLLOW`): no name for the outside file.
    assert_eq!(
        fs.apply(&Op::Link {
            from: p("up"),
            to: p("up-again")
        }),
        Ok(Value::Unit)
    );
    assert!(matches!(
        fs.apply(&Op::Lstat { path: p("up-again") }),
        Ok(Value::Meta(m)) if m.kind == Kind::Symlink
    ));
    // A dangling symlink pointing outside, opened with O_CREAT.
    let outside = format!("../{name}/created");
    fs.apply(&Op::Symlink {
        target: p(&outside),
        path: p("dangling"),
    })
    .unwrap();
    assert_eq!(
        open(&mut fs, "dangling", OpenFlags::CREATE_TRUNC),
        Err(Errno::EXDEV)
    );
    // Paths that leave the root directly.
    assert_eq!(open(&mut fs, &up, OpenFlags::READ), Err(Errno::EXDEV));
    assert_eq!(
        open(&mut fs, "/etc/passwd", OpenFlags::READ),
        Err(Errno::EXDEV)
    );
    assert_eq!(
        fs.apply(&Op::Mkdir {
            path: p(&format!("{abs}/x")),
            mode: 0o777
        }),
        Err(Errno::EXDEV)
    );
    assert_eq!(
        fs.apply(&Op::Rename {
            from: p("up"),
            to: p("..")
        }),
        Err(Errno::EXDEV)
    );
    // A symlink loop.
    fs.apply(&Op::Symlink {
        target: p("loop"),
        path: p("loop"),
    })
    .unwrap();
    assert_eq!(fs.apply(&Op::Stat { path: p("loop") }), Err(Errno::ELOOP));
    canary.assert_untouched();
}

#[test]
fn the_root_is_removed_on_drop_and_on_panic() {
    let fs = RealFs::new().unwrap();
    let root = fs.root_path().to_path_buf();
    assert!(root.is_dir());
    drop(fs);
    assert!(!root.exists(), "dropped root still exists");

    let root = std::panic::catch_unwind(|| {
        let mut fs = RealFs::new().unwrap();
        fs.apply(&Op::Mkdir {
            path: p("d"),
            mode: 0o777,
        })
        .unwrap();
        std::panic::panic_any(fs.root_path().to_path_buf());
    })
    .expect_err("the closure panics")
    .downcast::<PathBuf>()
    .unwrap();
    assert!(!root.exists(), "root left behind by a panicking execution");
}

#[test]
fn descriptors_are_virtual_lowest_free_from_three() {
    let mut fs = RealFs::new().unwrap();
    assert_eq!(open(&mut fs, "a", OpenFlags::CREATE_NEW), Ok(Value::Fd(3)));
    assert_eq!(open(&mut fs, "b", OpenFlags::CREATE_NEW), Ok(Value::Fd(4)));
    assert_eq!(open(&mut fs, "c", OpenFlags::CREATE_NEW), Ok(Value::Fd(5)));
    fs.apply(&Op::Close {
        fd: 4,
        path: p("b"),
    })
    .unwrap();
    assert_eq!(open(&mut fs, "a", OpenFlags::READ), Ok(Value::Fd(4)));
    assert_eq!(
        fs.apply(&Op::Close {
            fd: 9,
            path: p("x")
        }),
        Err(Errno::EBADF)
    );
    let blob = Blob::new(b"payload".to_vec());
    assert_eq!(
        fs.apply(&Op::Write {
            fd: 3,
            path: p("a"),
            blob: blob.clone()
        }),
        Ok(Value::Written(7))
    );
    match fs.apply(&Op::Read {
        fd: 4,
        path: p("a"),
    }) {
        Ok(Value::Data(c)) => assert_eq!(c.to_bytes(), b"payload"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn modes_get_umask_022_and_the_tree_is_canonical() {
    let mut fs = RealFs::new().unwrap();
    fs.apply(&Op::Mkdir {
        path: p("d"),
        mode: 0o777,
    })
    .unwrap();
    fs.apply(&Op::Mkdir {
        path: p("d/z"),
        mode: 0o700,
    })
    .unwrap();
    open(&mut fs, "d/f", OpenFlags::CREATE_NEW).unwrap();
    fs.apply(&Op::Symlink {
        target: p("f"),
        path: p("d/l"),
    })
    .unwrap();
    let t = fs.tree();
    let paths: Vec<&str> = t.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(paths, ["d", "d/f", "d/l", "d/z"]);
    assert_eq!(t.get("d").unwrap().mode, 0o755);
    assert_eq!(t.get("d/z").unwrap().mode, 0o700);
    assert_eq!(t.get("d/f").unwrap().mode, 0o644);
    assert_eq!(t.get("d/l").unwrap().target.as_deref(), Some("f"));
    assert_eq!(
        fs.apply(&Op::Readdir { path: p("d") }),
        Ok(Value::Names(vec!["f".into(), "l".into(), "z".into()]))
    );
    match fs.apply(&Op::Stat { path: p("d") }) {
        Ok(Value::Meta(m)) => assert_eq!((m.kind, m.size), (Kind::Dir, 0)),
        other => panic!("{other:?}"),
    }
}
