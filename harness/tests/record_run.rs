//! `record run`: a real `cp -Rp STAGE/. PREFIX` under strace on this machine,
//! replayed by the explorer.

use std::os::unix::fs::MetadataExt;

use assert_cmd::Command;

/// strace is installed and may trace here (ptrace can be forbidden in containers).
fn strace_available() -> bool {
    std::process::Command::new("strace")
        .args(["-f", "-o", "/dev/null", "true"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// A staged prefix like pip --root leaves it: sources first, bytecode last.
fn stage(root: &std::path::Path) {
    let sp = root.join("lib/python3.9/site-packages");
    std::fs::create_dir_all(sp.join("pkg")).unwrap();
    std::fs::write(sp.join("pkg/__init__.py"), "from . import mod\n").unwrap();
    std::fs::write(sp.join("pkg/mod.py"), "X = 1\n").unwrap();
    make_dir_after(&sp.join("pkg"), "__pycache__", "__init__.py");
    std::fs::write(
        sp.join("pkg/__pycache__/__init__.cpython-39.pyc"),
        b"\x61\x0d\x0d\x0a",
    )
    .unwrap();
}

/// Creates directory `name` in `dir` with an inode number above `after`'s, as
/// pip's compile step leaves it. Filesystems reuse freed inode numbers, so a
/// fresh directory can land below; keep trying with new ones until one lands
/// above, then rename it into place.
fn make_dir_after(dir: &std::path::Path, name: &str, after: &str) {
    let floor = std::fs::symlink_metadata(dir.join(after)).unwrap().ino();
    let mut held = Vec::new();
    for i in 0..4096 {
        let candidate = dir.join(format!(".candidate-{i}"));
        std::fs::create_dir(&candidate).unwrap();
        if std::fs::symlink_metadata(&candidate).unwrap().ino() > floor {
            std::fs::rename(&candidate, dir.join(name)).unwrap();
            for h in held {
                std::fs::remove_dir(h).unwrap();
            }
            return;
        }
        held.push(candidate);
    }
    panic!("no directory inode above {after}'s in 4096 tries");
}

fn record_run(dir: &std::path::Path, imports: &[&str]) -> std::path::PathBuf {
    let stage_dir = dir.join("stage");
    stage(&stage_dir);
    let prefix = dir.join("prefix");
    std::fs::create_dir(&prefix).unwrap();
    let out = dir.join("run.toml");
    let mut cmd = Command::cargo_bin("prefixrace").unwrap();
    cmd.args([
        "record",
        "run",
        "--prefix",
        prefix.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    for m in imports {
        cmd.args(["--import", m]);
    }
    cmd.arg("--").args([
        "cp",
        "-Rp",
        &format!("{}/.", stage_dir.display()),
        prefix.to_str().unwrap(),
    ]);
    let result = cmd.output().unwrap();
    assert_eq!(
        result.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    out
}

fn explore(file: &std::path::Path) -> (i32, String) {
    let out = Command::cargo_bin("prefixrace")
        .unwrap()
        .args([
            "explore",
            file.to_str().unwrap(),
            "--jobs",
            "1",
            "--strategy",
            "staged-copy",
        ])
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
#[cfg_attr(
    prefixrace_no_strace,
    ignore = "strace cannot trace here (apt-get install strace)"
)]
fn a_recorded_cp_replays_alone_and_races_an_importer() {
    if !strace_available() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run `record run`: strace cannot trace"
        );
        eprintln!("SKIPPED: strace is not installed, `record run` cannot be exercised");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let alone = record_run(&dir.path().join("a"), &[]);
    let text = std::fs::read_to_string(&alone).unwrap();
    assert!(text.contains("program = \"cp\""), "{text}");
    assert!(text.contains("python-tag = \"cpython-39\""), "{text}");
    let (code, out) = explore(&alone);
    assert_eq!(code, 0, "{out}");

    let racing = record_run(&dir.path().join("b"), &["pkg"]);
    let (code, out) = explore(&racing);
    assert_eq!(code, 1, "{out}");
    // `stage` puts __pycache__ above __init__.py by inode, as pip leaves it,
    // so cp creates it last and the importer gets there first.
    assert!(
        out.contains("/./lib/python3.9/site-packages/pkg/__pycache__': File exists"),
        "{out}"
    );
}

#[test]
#[cfg_attr(
    prefixrace_no_strace,
    ignore = "strace cannot trace here (apt-get install strace)"
)]
fn record_run_resolves_relative_paths_from_its_working_directory() {
    if !strace_available() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run `record run`: strace cannot trace"
        );
        eprintln!("SKIPPED: strace is not installed, `record run` cannot be exercised");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    stage(&dir.path().join("stage"));
    std::fs::create_dir(dir.path().join("prefix")).unwrap();
    let out = Command::cargo_bin("prefixrace")
        .unwrap()
        .current_dir(dir.path())
        .args([
            "record", "run", "--prefix", "prefix", "--", "cp", "-Rp", "stage/.", "prefix",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let prefix = std::fs::canonicalize(dir.path()).unwrap().join("prefix");
    assert!(
        text.contains(&format!("prefix = \"{}\"", prefix.display()))
            || text.contains(&format!(
                "prefix = \"{}\"",
                dir.path().join("prefix").display()
            )),
        "{text}"
    );
    assert!(
        text.contains(
            "open(\"lib/python3.9/site-packages/pkg/__init__.py\", O_WRONLY|O_CREAT|O_EXCL, 0600)"
        ),
        "{text}"
    );
}

#[test]
#[cfg_attr(
    prefixrace_no_strace,
    ignore = "strace cannot trace here (apt-get install strace)"
)]
fn the_commands_own_output_stays_out_of_the_scenario() {
    if !strace_available() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run `record run`: strace cannot trace"
        );
        eprintln!("SKIPPED: strace is not installed, `record run` cannot be exercised");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("p");
    std::fs::create_dir(&prefix).unwrap();
    let script = format!("echo noise; mkdir {}/x", prefix.display());
    let out = Command::cargo_bin("prefixrace")
        .unwrap()
        .args([
            "record",
            "run",
            "--prefix",
            prefix.to_str().unwrap(),
            "--",
            "sh",
            "-c",
            &script,
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.lines().any(|l| l == "noise"), "{text}");
    assert!(String::from_utf8_lossy(&out.stderr)
        .lines()
        .any(|l| l == "noise"));
    assert!(text.contains("'mkdir(\"x\", 0777) = 0'"), "{text}");
    assert!(text.contains("program = \"mkdir\""), "{text}");
}

#[test]
fn without_strace_record_run_says_so_and_exits_2() {
    let empty = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("prefixrace")
        .unwrap()
        .env("PATH", empty.path())
        .args(["record", "run", "--prefix", "/tmp/x", "--", "true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("strace is not installed"), "{err}");
}

#[test]
fn record_run_without_a_command_is_a_usage_error() {
    let out = Command::cargo_bin("prefixrace")
        .unwrap()
        .args(["record", "run", "--prefix", "/tmp/x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
