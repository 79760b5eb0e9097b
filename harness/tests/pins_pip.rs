//! Pins pip's console scripts against the real pip on this machine.
//!
//! Real `python3 -m pip install --no-deps --prefix P black-….whl` runs under
//! `strace -f`; the pip model installs the same wheel serially. Compared:
//! the calls on `P/bin` before `INSTALLER` (stat, mkdir, open, chmod with
//! their flags and modes; distlib's stat of `P` itself and its `fstat` of
//! the new descriptor are left out, as the model leaves them out), that they
//! come after the last `.pyc` is renamed into place and before `INSTALLER`,
//! and each script's bytes (shebang aside) and mode. When `python3`, its
//! pip or `strace` is missing the test prints why and passes.

mod pins_support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use pins_support::tool_runs;
use prefixrace::internals::schedule::SerialScheduler;
use prefixrace::internals::ModelFs;
use prefixrace::scenario::{PythonVersion, Scenario, WheelCheck};
use prefixrace::strategy::DirectInstall;
use prefixrace::Setup;

const BLACK: &str = "scenarios/payloads/black-26.10.1-py3-none-any.whl";

fn black() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .join(BLACK)
}

/// The real interpreter and its version, when it and strace can run pip.
fn python_with_pip() -> Option<(String, String)> {
    let ok = |c: &mut Command| c.output().map(|o| o.status.success()).unwrap_or(false);
    if !tool_runs("strace", &["--version"], "pip") {
        return None;
    }
    let out = Command::new("python3")
        .args([
            "-c",
            "import sys; print(sys.executable); print('%d.%d' % sys.version_info[:2])",
        ])
        .output()
        .ok()
        .filter(|o| o.status.success());
    let Some(out) = out else {
        eprintln!("SKIP: `python3` is not installed");
        return None;
    };
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let mut lines = text.lines();
    let (exe, version) = (lines.next()?.to_string(), lines.next()?.to_string());
    if !ok(Command::new(&exe).args(["-m", "pip", "--version"])) {
        eprintln!("SKIP: {exe} has no pip");
        return None;
    }
    Some((exe, version))
}

/// A traced call on `path` in the model's words, or `None` for other calls.
fn model_words(line: &str, prefix: &str) -> Option<String> {
    let quoted = line.split('"').nth(1)?;
    if !quoted.starts_with(prefix) {
        return None;
    }
    let rest = line.split_once(&format!("\"{quoted}\""))?.1;
    let call = line
        .split_whitespace()
        .nth(1)?
        .split('(')
        .next()?
        .to_string();
    Some(match call.as_str() {
        "newfstatat" | "stat" => format!("stat({quoted:?})"),
        "mkdir" => format!(
            "mkdir({quoted:?}, {})",
            rest.split([',', ')']).nth(1)?.trim()
        ),
        "openat" => {
            let mut fields = rest.trim_start_matches(',').split(',');
            let flags = fields.next()?.trim().replace("|O_CLOEXEC", "");
            let mode = fields
                .next()
                .map(|m| m.split(')').next().unwrap_or("").trim());
            match mode {
                Some(m) if flags.contains("O_CREAT") => format!("open({quoted:?}, {flags}, {m})"),
                _ => format!("open({quoted:?}, {flags})"),
            }
        }
        "chmod" => format!(
            "chmod({quoted:?}, {})",
            rest.split([',', ')']).nth(1)?.trim()
        ),
        "rename" => format!("rename({quoted:?}"),
        other => format!("{other}({quoted:?})"),
    })
}

#[test]
fn console_scripts_are_written_as_the_real_pip_writes_them() {
    let Some((python, version)) = python_with_pip() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("p");
    let log = dir.path().join("pip.strace");
    let status = Command::new("strace")
        .args(["-f", "-qq", "-e", "trace=file,chmod", "-o"])
        .arg(&log)
        .arg(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-index",
            "--disable-pip-version-check",
            "--no-warn-script-location",
            "-q",
            "--prefix",
        ])
        .arg(&prefix)
        .arg(black())
        .env_remove("PYTHONDONTWRITEBYTECODE")
        .status()
        .unwrap();
    assert!(status.success());
    let prefix_text = prefix.display().to_string();
    let text = std::fs::read_to_string(&log).unwrap();
    let real: Vec<String> = text
        .lines()
        .filter_map(|l| model_words(l, &prefix_text))
        .collect();

    let python_version = PythonVersion::parse(&version).unwrap();
    let args = vec![black().display().to_string()];
    let mut scenario =
        Scenario::ad_hoc_for(&args, &[], WheelCheck::Verify, Some(python_version)).unwrap();
    scenario.prefix = prefix_text.clone();
    let setup = Setup::new(Arc::new(scenario), &DirectInstall).unwrap();
    let trace = setup.run(&mut ModelFs::new(), &mut SerialScheduler, true);
    let model: Vec<String> = trace
        .events
        .iter()
        .map(|e| e.op.display_with(&prefix_text).to_string())
        .collect();

    // The calls on bin/, from the first one to INSTALLER.
    let bin = format!("{prefix_text}/bin");
    let scripts = |calls: &[String]| -> (Vec<String>, bool) {
        let first = calls
            .iter()
            .position(|c| c.contains(&bin))
            .expect("bin calls");
        let installer = calls.iter().position(|c| c.contains("INSTALLER")).unwrap();
        let last_pyc = calls
            .iter()
            .rposition(|c| c.starts_with("rename(") && c.contains(".pyc"))
            .unwrap();
        let on_bin = calls[first..installer]
            .iter()
            .filter(|c| c.contains(&bin) && !c.starts_with("write(") && !c.starts_with("close("))
            .cloned()
            .collect();
        (on_bin, last_pyc < first && first < installer)
    };
    let (real_calls, real_order) = scripts(&real);
    let (model_calls, model_order) = scripts(&model);
    assert!(
        real_order && model_order,
        "after compiling, before INSTALLER"
    );
    assert_eq!(model_calls, real_calls);
    assert_eq!(real_calls.len(), 12, "{real_calls:#?}");

    // The bytes, but for the interpreter the shebang names.
    let tree = trace.tree;
    for name in ["black", "blackd"] {
        let real_bytes = std::fs::read(prefix.join("bin").join(name)).unwrap();
        let body = |b: &[u8]| b[b.iter().position(|c| *c == b'\n').unwrap()..].to_vec();
        let entry = tree.get(&format!("bin/{name}")).unwrap();
        let shebang = format!("#!{prefix_text}/bin/python{version}");
        assert_eq!(
            entry.size,
            (shebang.len() + body(&real_bytes).len()) as u64,
            "{name}"
        );
        let mut model_bytes = shebang.into_bytes();
        model_bytes.extend(body(&real_bytes));
        assert_eq!(
            entry.digest,
            Some(prefixrace::internals::content::Digest::of(&model_bytes))
        );
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(prefix.join("bin").join(name))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(entry.mode, mode & 0o7777);
    }
}
