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
    std::fs::write(pkg.join("__init__.py"), "from . import mod\n").unwrap();
    std::fs::write(pkg.join("mod.py"), "X = 1\n").unwrap();
    // GNU cp visits by inode. The race needs the staged __pycache__ after
    // __init__.py (what pip leaves): made last, it nearly always is; when the
    // filesystem hands out a lower number, it is made again.
    let ino = |p: &str| std::fs::symlink_metadata(pkg.join(p)).unwrap().ino();
    for attempt in 0.. {
        std::fs::create_dir(pkg.join("__pycache__")).unwrap();
        std::fs::write(pkg.join("__pycache__/__init__.cpython-39.pyc"), b"stale").unwrap();
        if ino("__pycache__") > ino("__init__.py") {
            break;
        }
        assert!(
            attempt < 50,
            "this filesystem never numbers a new directory higher"
        );
        std::fs::remove_dir_all(pkg.join("__pycache__")).unwrap();
    }
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
