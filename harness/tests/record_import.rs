//! Ticket 32361 from recordings alone: a real `cp -Rp` and a real
//! `python3 -c 'import pkg'`, each traced on this machine, replayed together.

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Command as Std;

use assert_cmd::Command;

fn have(program: &str, arg: &str) -> bool {
    Std::new(program)
        .arg(arg)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

fn traced(dir: &Path, log: &str, cmd: &mut Std) {
    let program = cmd.get_program().to_owned();
    let args: Vec<_> = cmd.get_args().map(|a| a.to_owned()).collect();
    let status = cmd
        .current_dir(dir)
        .env_remove("PYTHONDONTWRITEBYTECODE")
        .status()
        .unwrap();
    assert!(status.success(), "strace {program:?} {args:?} failed");
    assert!(dir.join(log).exists());
}

#[test]
#[cfg_attr(
    prefixrace_no_strace,
    ignore = "strace cannot trace here (apt-get install strace)"
)]
#[cfg_attr(prefixrace_no_python3, ignore = "python3 does not run here")]
fn a_recorded_importer_breaks_a_recorded_copy() {
    let can_trace = Std::new("strace")
        .args(["-f", "-o", "/dev/null", "true"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !can_trace || !have("python3", "--version") {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run this: strace or python3 is missing"
        );
        eprintln!("SKIPPED: needs strace and python3 to record a copy and an import");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = std::fs::canonicalize(tmp.path()).unwrap();
    let sp = "lib/python3.9/site-packages";
    let pkg = dir.join("stage").join(sp).join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(pkg.join("mod.py"), "X = 1\n").unwrap();
    // GNU cp visits by inode. The race needs the staged __pycache__ after
    // __init__.py (what pip leaves). A filesystem may number a new
    // directory below a new file (ext4 may place it in another block
    // group), and a directory removed and made again gets its old number
    // back; so spare files and directories are made and kept, a file
    // numbered below a directory is picked, and both are renamed into
    // place (a rename keeps the number).
    let spare = dir.join("spare");
    std::fs::create_dir(&spare).unwrap();
    let ino = |p: &Path| std::fs::symlink_metadata(p).unwrap().ino();
    let mut files = Vec::new();
    let mut dirs = Vec::new();
    for i in 0..64 {
        let holder = spare.join(format!("holder-{i}"));
        std::fs::create_dir(&holder).unwrap();
        let file = holder.join("__init__.py");
        std::fs::write(&file, "from . import mod\n").unwrap();
        files.push(file);
        let empty = spare.join(format!("empty-{i}"));
        std::fs::create_dir(&empty).unwrap();
        dirs.push(empty);
    }
    let file = files.iter().min_by_key(|f| ino(f)).unwrap();
    let cache = dirs.iter().max_by_key(|d| ino(d)).unwrap();
    assert!(
        ino(file) < ino(cache),
        "this filesystem numbered 64 new directories below 64 new files"
    );
    std::fs::rename(file, pkg.join("__init__.py")).unwrap();
    std::fs::rename(cache, pkg.join("__pycache__")).unwrap();
    std::fs::write(pkg.join("__pycache__/__init__.cpython-39.pyc"), b"stale").unwrap();
    std::fs::remove_dir_all(&spare).unwrap();
    std::fs::create_dir(dir.join("prefix")).unwrap();

    // The copy, as sage-spkg ran it; then an import from the copied prefix.
    traced(
        &dir,
        "cp.log",
        Std::new("strace").args(["-f", "-o", "cp.log", "cp", "-Rp", "stage/.", "prefix"]),
    );
    traced(
        &dir,
        "py.log",
        Std::new("strace")
            .args(["-f", "-o", "py.log", "python3", "-c", "import pkg"])
            .env("PYTHONPATH", dir.join("prefix").join(sp)),
    );

    let scenario = dir.join("two.toml");
    let prefix = dir.join("prefix");
    let out = Command::cargo_bin("prefixrace")
        .unwrap()
        .args(["record", "strace", "cp.log", "py.log", "--prefix"])
        .arg(&prefix)
        .arg("--cwd")
        .arg(&dir)
        .arg("-o")
        .arg(&scenario)
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&scenario).unwrap();
    assert!(text.contains("program = \"cp\""), "{text}");
    assert!(text.contains("program = \"python\""), "{text}");

    let run = |strategy: &str| {
        let out = Command::cargo_bin("prefixrace")
            .unwrap()
            .args([
                "explore",
                scenario.to_str().unwrap(),
                "--jobs",
                "1",
                "--strategy",
                strategy,
            ])
            // The window is a few cp ops against the importer's whole
            // lookup: PCT's few preemptions find it, uniform random rarely.
            .args(["--scheduler", "pct:3"])
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    // An importer can create __pycache__ before cp does, and cp's mkdir fails.
    let (code, out) = run("staged-copy");
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!(
            "cp: cannot create directory '{}/./{sp}/pkg/__pycache__': File exists",
            prefix.display()
        )),
        "{out}"
    );
    // The replay waited for the sources: the importer never ran
    // before cp created them, or the recorded reads would have diverged.
    assert!(!out.contains("divergence"), "{out}");
}
