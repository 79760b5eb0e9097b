//! The kit's wording of failed calls (`kit::Voice`), pinned against the
//! real runtimes on this machine: Node's `fs` errors and CPython's
//! `OSError`s, for the calls the races corpus fails on. Each case makes
//! the real call fail in a temporary directory and compares the message
//! with the kit's line for the same call, errno and paths.

use std::path::Path;
use std::process::Command;

use prefixrace::internals::Errno;
use prefixrace::kit::{Failure, Voice};

/// A directory with `a/x` and `b/y` (two non-empty directories).
fn fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for d in ["a", "b"] {
        std::fs::create_dir(dir.path().join(d)).unwrap();
    }
    std::fs::write(dir.path().join("a/x"), b"x").unwrap();
    std::fs::write(dir.path().join("b/y"), b"y").unwrap();
    dir
}

/// The failed calls, as (the kit's failure, the call in Node, in Python).
fn cases() -> Vec<(Failure, &'static str, &'static str)> {
    let p = |s: &str| -> std::sync::Arc<str> { s.into() };
    vec![
        (
            Failure::between("rename", Errno::ENOENT, &p("missing"), &p("t")),
            "fs.renameSync(D+'/missing', D+'/t')",
            "os.rename(D+'/missing', D+'/t')",
        ),
        (
            Failure::between("rename", Errno::ENOTEMPTY, &p("a"), &p("b")),
            "fs.renameSync(D+'/a', D+'/b')",
            "os.rename(D+'/a', D+'/b')",
        ),
        (
            Failure::new("open", Errno::ENOENT, &p("none")),
            "fs.openSync(D+'/none', 'r')",
            "open(D+'/none')",
        ),
        (
            Failure::new("mkdir", Errno::EEXIST, &p("a")),
            "fs.mkdirSync(D+'/a')",
            "os.mkdir(D+'/a')",
        ),
        (
            Failure::new("rmdir", Errno::ENOTEMPTY, &p("a")),
            "fs.rmdirSync(D+'/a')",
            "os.rmdir(D+'/a')",
        ),
    ]
}

fn output(program: &str, args: &[&str]) -> String {
    let out = Command::new(program).args(args).output().unwrap();
    assert!(out.status.success(), "{program}: {out:?}");
    String::from_utf8(out.stdout)
        .unwrap()
        .trim_end()
        .to_string()
}

fn prefix(dir: &Path) -> String {
    dir.display().to_string()
}

/// Node prints `CODE: message, syscall 'path'[ -> 'dest']`; the kit's
/// `node` voice is that after `Error: `.
#[test]
#[cfg_attr(prefixrace_no_node, ignore = "node does not run here")]
fn node_words_failed_calls_as_the_kit_does() {
    let dir = fixture();
    for (failure, call, _) in cases() {
        let script = format!(
            "const fs = require('fs'); const D = {:?}; try {{ {call}; }} catch (e) {{ console.log(e.message); }}",
            prefix(dir.path())
        );
        let real = output("node", &["-e", &script]);
        let kit = Voice::of("node").say(&failure, &prefix(dir.path()), None);
        assert_eq!(kit, format!("Error: {real}"), "{call}");
    }
}

/// CPython prints `[Errno N] strerror: 'path'[ -> 'dest']` for an
/// `OSError`; the kit's Python voice is that after the exception class.
#[test]
#[cfg_attr(prefixrace_no_python3, ignore = "python3 does not run here")]
fn python_words_failed_calls_as_the_kit_does() {
    let dir = fixture();
    for (failure, _, call) in cases() {
        let script = format!(
            "import os\nD = {:?}\ntry:\n    {call}\nexcept OSError as e:\n    print(type(e).__name__ + ': ' + str(e))",
            prefix(dir.path())
        );
        let real = output("python3", &["-c", &script]);
        let kit = Voice::of("python3").say(&failure, &prefix(dir.path()), None);
        assert_eq!(kit, real, "{call}");
    }
}
