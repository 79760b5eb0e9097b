//! Shared fixtures of the gate tests: the real Python, a staging tree and a
//! wheel of a small pure-Python package `M`, the importer command, and the
//! rule that skips a test only where ptrace is not permitted.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use sha2::{Digest, Sha256};

/// Where the crash, fault and walk tests' staged copy installs; their model
/// scenarios use the same layout.
pub const SITE: &str = "lib/python3.9/site-packages";

/// The staged package of the fault and walk tests: four files, one
/// subdirectory.
pub const STAGED: [(&str, &str); 4] = [
    ("M/__init__.py", "NAME = 'M'\n"),
    ("M/a.py", "A = 1\n"),
    ("M/b.py", "B = 2\n"),
    ("M/sub/data.txt", "data\n"),
];

/// The real staged copy.
pub const COPY: &str = r#"exec cp -Rp "$STAGE/." "$PREFIX""#;

/// The same copy behind a `mkdir` lock, which a killed holder leaves.
pub const LOCKED_COPY: &str =
    r#"mkdir "$PREFIX/.lock" && cp -Rp "$STAGE/." "$PREFIX" && rmdir "$PREFIX/.lock""#;

/// Modules besides `__init__`. A real package is big (Cython has 100+ files
/// per directory); with PYTHONPATH in front of sys.path, Python's start-up
/// stats the prefix about 60 times before `import M` reaches `M/__pycache__`,
/// so the copy must be long enough for the import to fit inside it.
pub const MODULES: usize = 40;

/// The `prefixrace` binary.
pub fn prefixrace() -> Command {
    Command::new(env!("CARGO_BIN_EXE_prefixrace"))
}

/// The real interpreter behind `python3` (not a pyenv shim script).
pub fn python() -> String {
    let out = Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .expect("python3 must be installed for the gate tests");
    assert!(out.status.success(), "python3 does not run");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// `lib/pythonX.Y/site-packages`, where `pip --prefix` installs.
pub fn site_packages(python: &str) -> String {
    let out = Command::new(python)
        .args([
            "-c",
            "import sys; print(f'lib/python{sys.version_info[0]}.{sys.version_info[1]}/site-packages')",
        ])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// The sources of package `M`.
pub fn sources() -> Vec<(String, String)> {
    let mut files = vec![("M/__init__.py".to_string(), "NAME = 'M'\n".to_string())];
    for i in 1..=MODULES {
        files.push((format!("M/m{i}.py"), format!("VALUE = {i}\n")));
    }
    files
}

/// Builds `STAGE/SITE/M/...` as a staged pip install leaves it: sources,
/// then `__pycache__/*.pyc` by `python3 -m compileall`. GNU cp visits
/// entries by inode number; pip writes `__pycache__` last, so it usually has
/// the highest inode and `__init__.py` one of the lowest. On a busy ext4
/// freed inodes are reused, so creation order alone does not guarantee it:
/// the entries are created under scratch names first and named by inode
/// order (lowest becomes `__init__.py`; of several scratch directories the
/// highest, if above every file, becomes `__pycache__`), retrying in a fresh
/// directory otherwise. Returns the directory holding the stage.
pub fn staging_tree(python: &str, site: &str) -> tempfile::TempDir {
    use std::os::unix::fs::MetadataExt;
    let ino = |p: &Path| std::fs::metadata(p).unwrap().ino();
    for _attempt in 0..50 {
        let stage = tempfile::tempdir().unwrap();
        let m = stage.path().join(site).join("M");
        std::fs::create_dir_all(&m).unwrap();
        let sources = sources();
        let mut files: Vec<PathBuf> = (0..sources.len())
            .map(|k| m.join(format!("scratch{k}")))
            .collect();
        for f in &files {
            std::fs::write(f, "").unwrap();
        }
        let mut dirs: Vec<PathBuf> = (0..20).map(|k| m.join(format!("scratchdir{k}"))).collect();
        for d in &dirs {
            std::fs::create_dir(d).unwrap();
        }
        files.sort_by_key(|f| ino(f));
        dirs.sort_by_key(|d| ino(d));
        let last = dirs.pop().unwrap();
        for d in &dirs {
            std::fs::remove_dir(d).unwrap();
        }
        if ino(&last) < ino(files.last().unwrap()) {
            continue;
        }
        std::fs::rename(&last, m.join("__pycache__")).unwrap();
        for (f, (path, text)) in files.iter().zip(&sources) {
            let named = stage.path().join(site).join(path);
            std::fs::rename(f, &named).unwrap();
            std::fs::write(&named, text).unwrap();
        }
        let st = Command::new(python)
            .args(["-m", "compileall", "-q"])
            .arg(&m)
            .env_remove("PYTHONDONTWRITEBYTECODE")
            .status()
            .unwrap();
        assert!(st.success(), "compileall failed");
        assert_eq!(
            std::fs::read_dir(m.join("__pycache__")).unwrap().count(),
            MODULES + 1
        );
        assert!(inode_order_is_creation_order(&m));
        return stage;
    }
    panic!("could not build a staging tree whose __pycache__ has the highest inode");
}

fn inode_order_is_creation_order(m: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let mut by_inode: Vec<(u64, String)> = std::fs::read_dir(m)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.metadata().unwrap().ino(),
                e.file_name().to_string_lossy().into_owned(),
            )
        })
        .collect();
    by_inode.sort();
    let created: Vec<String> = sources()
        .into_iter()
        .map(|(p, _)| p.trim_start_matches("M/").to_string())
        .chain(["__pycache__".to_string()])
        .collect();
    by_inode.into_iter().map(|(_, n)| n).eq(created)
}

/// Writes `m-1.0-py3-none-any.whl` into `dir` by hand (zip + RECORD with
/// sha256 hashes), so no build backend is needed offline.
pub fn wheel(dir: &Path) -> PathBuf {
    wheel_with(dir, &[])
}

/// [`wheel`] with `M/_speedups.so` as well, stored executable (0755), as a
/// compiled extension is: pip chmods it after writing it, the window of
/// SageMath 33060.
pub fn wheel_with_extension(dir: &Path) -> PathBuf {
    wheel_with(dir, &[("M/_speedups.so", "\x7fELF stand-in\n")])
}

fn wheel_with(dir: &Path, executables: &[(&str, &str)]) -> PathBuf {
    use std::io::Write;
    let mut files = sources();
    files.extend(
        executables
            .iter()
            .map(|(p, t)| (p.to_string(), t.to_string())),
    );
    files.push((
        "m-1.0.dist-info/METADATA".into(),
        "Metadata-Version: 2.1\nName: m\nVersion: 1.0\n".into(),
    ));
    files.push((
        "m-1.0.dist-info/WHEEL".into(),
        "Wheel-Version: 1.0\nGenerator: prefixrace-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
            .into(),
    ));
    let mut record = String::new();
    for (path, text) in &files {
        let hash = URL_SAFE_NO_PAD.encode(Sha256::digest(text.as_bytes()));
        record.push_str(&format!("{path},sha256={hash},{}\n", text.len()));
    }
    record.push_str("m-1.0.dist-info/RECORD,,\n");
    files.push(("m-1.0.dist-info/RECORD".into(), record));
    let path = dir.join("m-1.0-py3-none-any.whl");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let options = zip::write::SimpleFileOptions::default();
    for (name, text) in files {
        let executable = executables.iter().any(|(p, _)| *p == name);
        let options = if executable {
            options.unix_permissions(0o755)
        } else {
            options
        };
        zip.start_file(name, options).unwrap();
        zip.write_all(text.as_bytes()).unwrap();
    }
    zip.finish().unwrap();
    path
}

/// The importer: waits, through gated stats, until `M/__init__.py` exists in
/// the prefix, then execs a fresh Python (fresh import caches) that imports
/// M with PYTHONPATH pointing into the prefix and bytecode writing on.
pub fn importer(python: &str, site: &str) -> String {
    format!(
        "until [ -e \"$PREFIX/{site}/M/__init__.py\" ]; do :; done; \
         PYTHONPATH=\"$PREFIX/{site}\" exec env -u PYTHONDONTWRITEBYTECODE {python} -c 'import M'"
    )
}

/// The staged copy of SageMath before ticket 32361.
pub fn staged_copy() -> String {
    "exec cp -Rp \"$STAGE/.\" \"$PREFIX\"".to_string()
}

/// The direct install that fixed it.
pub fn direct_install(python: &str, wheel: &Path) -> String {
    format!(
        "exec {python} -m pip install --no-deps --no-index --isolated --disable-pip-version-check --prefix \"$PREFIX\" '{}'",
        wheel.display()
    )
}

/// True when the gate can run here. A test skips (returns early, saying why)
/// only when the kernel refuses ptrace or seccomp, and never in CI (`CI` set
/// in the environment), where a missing ptrace fails the test; any other
/// failure of this probe fails the test.
pub fn gate_permitted() -> bool {
    let prefix = tempfile::tempdir().unwrap();
    let out = prefixrace()
        .args(["run", "--executions", "1", "--prefix"])
        .arg(prefix.path())
        .args(["--", "mkdir \"$PREFIX/probe\""])
        .output()
        .unwrap();
    if out.status.success() {
        return true;
    }
    let err = String::from_utf8_lossy(&out.stderr);
    if err.contains("Operation not permitted") || err.contains("needs Linux on x86_64") {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the gate tests, but ptrace or seccomp is not permitted: {err}"
        );
        eprintln!("SKIPPED: ptrace or seccomp is not permitted here: {err}");
        return false;
    }
    panic!("the gate probe failed for another reason: {err}");
}

/// Stdout as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Stderr as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The model's verdicts for a package of `files` (path, text) installed
/// into `site` under `strategy`, with `faults` injected: `explore
/// --scheduler dpor --faults FAULTS` of a scenario written for it, as
/// JSON. The gate's crash and fault tests compare their real runs with it.
pub fn model_verdicts(
    files: &[(&str, &str)],
    site: &str,
    strategy: &str,
    faults: &str,
) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let mut toml = format!(
        "name = \"gate-m\"\ndescription = \"the package of a gate test\"\n\
         prefix = \"/sage/local\"\nsite-packages = \"{site}\"\npython-tag = \"cpython-39\"\n\n\
         [[package]]\nname = \"M\"\nversion = \"1.0\"\n"
    );
    for (path, text) in files {
        toml.push_str(&format!(
            "\n[[package.file]]\npath = \"{path}\"\ntext = {text:?}\n"
        ));
    }
    let scenario = dir.path().join("m.toml");
    std::fs::write(&scenario, toml).unwrap();
    let out = prefixrace()
        .arg("explore")
        .arg(&scenario)
        .args(["--strategy", strategy, "--scheduler", "dpor", "--faults"])
        .args([faults, "--no-pairs", "--format", "json"])
        .output()
        .unwrap();
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `prefixrace run` of one `command` on `prefix` (and `stage`), one
/// execution, as JSON with its trace, with `extra` options: the exit
/// status (0 or 1, anything else fails the test) and the report.
pub fn run_one(
    prefix: &Path,
    stage: Option<&Path>,
    command: &str,
    extra: &[&str],
) -> (i32, serde_json::Value) {
    let mut run = prefixrace();
    run.args(["run", "--executions", "1", "--trace", "--format", "json"])
        .args(extra)
        .arg("--prefix")
        .arg(prefix);
    if let Some(s) = stage {
        run.arg("--stage").arg(s);
    }
    let out = run.args(["--", command]).output().unwrap();
    let code = out.status.code().unwrap();
    assert!(code == 0 || code == 1, "{extra:?}: {}", stderr(&out));
    (code, serde_json::from_slice(&out.stdout).unwrap())
}

/// The gated calls of a `run` report's first execution, strace-style.
pub fn first_trace(report: &serde_json::Value) -> Vec<String> {
    report["executions_traced"][0]["trace"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().to_string())
        .collect()
}

/// Runs a `replay:` line a report printed (`prefixrace run … -- 'cmd'`,
/// quoted for `sh`) with this build's binary and `extra` options added
/// after `run`.
pub fn run_printed(line: &str, extra: &[&str]) -> Output {
    let rest = line
        .strip_prefix("prefixrace run ")
        .unwrap_or_else(|| panic!("not a printed run line: {line}"));
    let binary = env!("CARGO_BIN_EXE_prefixrace");
    Command::new("sh")
        .arg("-c")
        .arg(format!("'{binary}' run {} {rest}", extra.join(" ")))
        .output()
        .unwrap()
}

/// A staging tree holding `files` (path, text) under `site`.
pub fn stage_of(site: &str, files: &[(&str, &str)]) -> tempfile::TempDir {
    let stage = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let p = stage.path().join(site).join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    stage
}
