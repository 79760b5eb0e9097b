//! Hostile scenarios through the real binary, on both filesystems.
//!
//! Every file in `tests/hostile/` is listed in `tests/hostile/EXPECTATIONS`
//! with what it must do:
//! - `error`: exit 2 with exactly one stderr line naming the file and
//!   containing the given detail (line and field where the loader knows them);
//! - `unrunnable`: exit 2 with one stderr line containing the detail (the
//!   serial reference run itself fails, so nothing can be compared);
//! - `run`: exit 0 or 1, with byte-identical reports on `--fs model` and
//!   `--fs real`.
//!
//! Never a panic. Every run gets `TMPDIR` pointing into a fresh directory
//! beside a canary directory; afterwards the canary is untouched and the
//! temporary directory is empty (each RealFs root was removed).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/hostile")
}

/// A scratch area: `tmp/` (the TMPDIR of every run) and `canary/` beside it.
struct Sandbox {
    base: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Sandbox {
        let base = tempfile::tempdir().expect("a scratch directory");
        std::fs::create_dir(base.path().join("tmp")).unwrap();
        std::fs::create_dir(base.path().join("canary")).unwrap();
        std::fs::write(base.path().join("canary/keep"), b"canary").unwrap();
        Sandbox { base }
    }

    fn tmp(&self) -> PathBuf {
        self.base.path().join("tmp")
    }

    fn canary(&self) -> PathBuf {
        self.base.path().join("canary")
    }

    fn run(&self, dir: &Path, file: &str, fs: &str) -> Output {
        Command::cargo_bin("prefixrace")
            .expect("the prefixrace binary")
            .current_dir(dir)
            .env("TMPDIR", self.tmp())
            .args([
                "explore",
                file,
                "--strategy",
                "staged-copy",
                "--schedules",
                "20",
                "--jobs",
                "1",
                "--fs",
                fs,
            ])
            .output()
            .expect("prefixrace runs")
    }

    /// Nothing escaped: the canary is as it was and no RealFs root is left.
    fn assert_clean(&self) {
        let canary: Vec<_> = std::fs::read_dir(self.canary())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(canary, ["keep"], "something was written into the canary");
        assert_eq!(
            std::fs::read(self.canary().join("keep")).unwrap(),
            b"canary"
        );
        let left: Vec<_> = std::fs::read_dir(self.tmp())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(left.is_empty(), "temporary roots left behind: {left:?}");
    }
}

fn expectations() -> BTreeMap<String, (String, String)> {
    let text = std::fs::read_to_string(corpus().join("EXPECTATIONS")).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let mut parts = l.splitn(3, '\t');
            let file = parts.next().unwrap().to_string();
            let kind = parts.next().expect("an expectation").to_string();
            let detail = parts.next().unwrap_or("").to_string();
            (file, (kind, detail))
        })
        .collect()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn every_hostile_file_is_refused_in_one_line_or_runs_contained() {
    let expected = expectations();
    let mut files: Vec<String> = std::fs::read_dir(corpus())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".toml"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 30,
        "the corpus has only {} files",
        files.len()
    );
    let listed: Vec<&String> = expected.keys().collect();
    assert_eq!(
        files.iter().collect::<Vec<_>>(),
        listed,
        "EXPECTATIONS and the corpus disagree"
    );
    let sandbox = Sandbox::new();
    let mut kinds = BTreeMap::new();
    for file in &files {
        let (kind, detail) = &expected[file];
        *kinds.entry(kind.as_str()).or_insert(0) += 1;
        let model = sandbox.run(&corpus(), file, "model");
        let real = sandbox.run(&corpus(), file, "real");
        for (fs, o) in [("model", &model), ("real", &real)] {
            assert_ne!(
                o.status.code(),
                Some(101),
                "{file} --fs {fs} panicked: {}",
                stderr(o)
            );
            let err = stderr(o);
            match kind.as_str() {
                "error" | "unrunnable" => {
                    assert_eq!(o.status.code(), Some(2), "{file} --fs {fs}: {err}");
                    assert_eq!(
                        err.lines().count(),
                        1,
                        "{file} --fs {fs}: not one line: {err}"
                    );
                    assert!(
                        err.contains(detail.as_str()),
                        "{file} --fs {fs}: {err:?} lacks {detail:?}"
                    );
                    if kind == "error" {
                        assert!(err.contains(&format!("{file}:")), "{file} --fs {fs}: {err}");
                    }
                }
                "run" => {
                    assert!(
                        matches!(o.status.code(), Some(0) | Some(1)),
                        "{file} --fs {fs}: exit {:?}: {err}",
                        o.status.code()
                    );
                }
                other => panic!("unknown expectation {other:?} for {file}"),
            }
        }
        assert_eq!(
            model.status.code(),
            real.status.code(),
            "{file}: exit codes differ"
        );
        assert_eq!(
            model.stdout, real.stdout,
            "{file}: reports differ between model and real"
        );
        assert_eq!(
            stderr(&model),
            stderr(&real),
            "{file}: errors differ between model and real"
        );
    }
    assert!(kinds.get("error").copied().unwrap_or(0) >= 25, "{kinds:?}");
    assert!(kinds.get("run").copied().unwrap_or(0) >= 5, "{kinds:?}");
    sandbox.assert_clean();
}

/// The canary is the target: a planted `__pycache__` symlink points at it,
/// by absolute path and by climbing `..`, and importers write through it.
#[test]
fn symlinks_aimed_at_a_canary_write_nothing_outside() {
    let sandbox = Sandbox::new();
    let canary = sandbox.canary();
    let mut targets = vec![canary.display().to_string()];
    for depth in 4..=8 {
        targets.push(format!("{}canary", "../".repeat(depth)));
    }
    let dir = sandbox.base.path();
    for (i, target) in targets.iter().enumerate() {
        let file = format!("aim-{i}.toml");
        std::fs::write(
            dir.join(&file),
            format!(
                r#"name = "aim"

[[package]]
name = "pkg"
compile = false
[[package.file]]
path = "pkg/__init__.py"
text = "x = 1\n"
[[package.file]]
path = "pkg/escape"
kind = "symlink"
target = {target:?}

[[package]]
name = "planter"
compile = false
[[package.file]]
path = "pkg/__pycache__"
kind = "symlink"
target = {target:?}

[[activity]]
name = "imp"
kind = "import"
modules = ["pkg"]

[[activity]]
name = "late"
kind = "import"
modules = ["pkg"]
after = ["pkg", "planter"]
"#
            ),
        )
        .unwrap();
        let model = sandbox.run(dir, &file, "model");
        let real = sandbox.run(dir, &file, "real");
        assert!(
            matches!(real.status.code(), Some(0) | Some(1)),
            "{file}: {}",
            stderr(&real)
        );
        assert_eq!(model.stdout, real.stdout, "{file}: reports differ");
        std::fs::remove_file(dir.join(&file)).unwrap();
    }
    sandbox.assert_clean();
}
