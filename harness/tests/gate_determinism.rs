//! The gate's determinism contract (docs/gate.md, "Determinism"): the same
//! seed gives the same verdict, token and trace, run after run, and every
//! failing token replays; the tracees' entropy is seeded.

mod gate_support;

use gate_support::*;

/// One run of the staged copy against the importer; returns the exit code,
/// the failing token and the whole standard output.
fn staged_copy_run(
    extra: &[&str],
    prefix: &std::path::Path,
    stage: &std::path::Path,
    py: &str,
    site: &str,
) -> (Option<i32>, Option<String>, String) {
    let out = prefixrace()
        .args(["run", "--trace"])
        .args(extra)
        .arg("--prefix")
        .arg(prefix)
        .arg("--stage")
        .arg(stage)
        .args(["--", &staged_copy(), "--", &importer(py, site)])
        .output()
        .unwrap();
    let text = stdout(&out);
    let token = text
        .lines()
        .find_map(|l| l.strip_prefix("token: "))
        .map(str::to_string);
    (out.status.code(), token, text)
}

#[test]
#[cfg_attr(
    prefixrace_no_strace,
    ignore = "ptrace is not permitted here (strace -f cannot trace): the gate needs it"
)]
fn cp_against_python_same_seed_same_token_verdict_and_trace_and_the_token_replays() {
    if !gate_permitted() {
        return;
    }
    let py = python();
    let site = site_packages(&py);
    let stage = staging_tree(&py, &site);
    let prefix = tempfile::tempdir().unwrap();
    let args = ["--scheduler", "random", "--seed", "3", "--executions", "5"];
    let first = staged_copy_run(&args, prefix.path(), stage.path(), &py, &site);
    assert_eq!(first.0, Some(1), "the staged copy must fail: {}", first.2);
    let token = first.1.clone().expect("a failing run prints its token");
    let runs = repeats().max(5);
    for _ in 1..runs {
        let again = staged_copy_run(&args, prefix.path(), stage.path(), &py, &site);
        assert_eq!(again, first, "the same seed must give the same run");
    }
    let execution = first
        .2
        .lines()
        .find_map(|l| l.strip_prefix("FAIL: execution "))
        .and_then(|l| l.split_whitespace().next())
        .unwrap()
        .to_string();
    let failing_trace: Vec<&str> = first
        .2
        .lines()
        .skip_while(|l| !l.contains(&format!("({token}):")))
        .skip(1)
        .take_while(|l| l.starts_with("  ["))
        .collect();
    assert!(!failing_trace.is_empty());
    for _ in 0..runs {
        let replay = staged_copy_run(
            &["--seed", "3", "--execution", &execution, "--token", &token],
            prefix.path(),
            stage.path(),
            &py,
            &site,
        );
        assert_eq!(replay.0, Some(1), "the token must replay: {}", replay.2);
        assert_eq!(replay.1.as_deref(), Some(token.as_str()));
        assert!(
            replay.2.contains("cp: cannot create directory") && replay.2.contains("File exists"),
            "{}",
            replay.2
        );
        let trace: Vec<&str> = replay
            .2
            .lines()
            .skip(1)
            .take_while(|l| l.starts_with("  ["))
            .collect();
        assert_eq!(trace, failing_trace, "the replay takes the same path");
    }
    assert_eq!(std::fs::read_dir(prefix.path()).unwrap().count(), 0);
}

/// A command that names a file in the prefix after 4 bytes of `getrandom`
/// (Python's `os.urandom`) and 4 bytes read from `/dev/urandom`.
fn random_names(py: &str) -> String {
    format!(
        "touch \"$PREFIX/g-$({py} -c 'import os; print(os.urandom(4).hex())')\" \
         \"$PREFIX/u-$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \\n')\""
    )
}

fn traced_names(py: &str, seed: &str) -> Vec<String> {
    let prefix = tempfile::tempdir().unwrap();
    let out = prefixrace()
        .args(["run", "--trace", "--executions", "1", "--seed", seed])
        // The reference has entropy of its own: its names differ.
        .args(["--volatile", "g-*", "--volatile", "u-*"])
        .arg("--prefix")
        .arg(prefix.path())
        .args(["--", &random_names(py)])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    stdout(&out)
        .lines()
        .filter(|l| l.contains("O_CREAT"))
        .map(str::to_string)
        .collect()
}

#[test]
#[cfg_attr(
    prefixrace_no_strace,
    ignore = "ptrace is not permitted here (strace -f cannot trace): the gate needs it"
)]
fn getrandom_and_dev_urandom_are_seeded() {
    if !gate_permitted() {
        return;
    }
    let py = python();
    let one = traced_names(&py, "11");
    assert_eq!(one.len(), 2, "{one:?}");
    assert!(
        one[0].contains("\"g-") && one[1].contains("\"u-"),
        "{one:?}"
    );
    assert_eq!(one, traced_names(&py, "11"), "same seed, same names");
    let other = traced_names(&py, "12");
    assert_ne!(one[0], other[0], "another seed, other getrandom bytes");
    assert_ne!(one[1], other[1], "another seed, other /dev/urandom bytes");
}

/// `uv`, when installed (CI installs it; elsewhere the uv case is skipped
/// with a message).
fn uv() -> Option<String> {
    let out = std::process::Command::new("sh")
        .args(["-c", "command -v uv && uv --version"])
        .output()
        .ok()?;
    let found = out.status.success().then(|| {
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .next()
            .unwrap_or("uv")
            .to_string()
    });
    assert!(
        found.is_some() || std::env::var_os("CI").is_none(),
        "CI must have uv (pip install uv) for the uv-vs-python3 determinism check"
    );
    found
}

/// Two random executions: enough for a plain importer to meet pip.
const RANDOM_2: &[&str] = &["--scheduler", "random", "--executions", "2"];

/// The directed search that finds the two-pip race (`tests/gate_directed.rs`),
/// so that its failing token is replayed too.
const AUTO_10: &[&str] = &["--scheduler", "auto", "--executions", "10"];

/// How many runs [`identical_runs`] compares, and how many times a failing
/// token is replayed: 2 (5 for cp), or `PREFIXRACE_GATE_REPEATS` (BENCHMARKS
/// §7 measures 20, idle and beside a CPU hog).
fn repeats() -> usize {
    std::env::var("PREFIXRACE_GATE_REPEATS")
        .ok()
        .and_then(|n| n.parse().ok())
        .filter(|&n| n >= 2)
        .unwrap_or(2)
}

/// Runs `commands` under the gate [`repeats`] times with seed 5 and the
/// scheduler and budget in `search`, on one prefix, and returns the report, after checking every run is
/// byte-identical to the first (verdict, token and `--trace`, temporary
/// names from the clock shown as `~N`). On a difference both runs are kept
/// in files under the test's scratch directory, and the message names them
/// and the first line that differs, so a rare divergence can be chased.
fn identical_runs(case: &str, search: &[&str], commands: &[String]) -> String {
    let prefix = tempfile::tempdir().unwrap();
    let mut outputs = Vec::new();
    for _ in 0..repeats() {
        let out = prefixrace()
            .args(["run", "--trace", "--seed", "5"])
            .args(search)
            .args(["--fail-on", "^ERROR", "--prefix"])
            .arg(prefix.path())
            .args(commands.iter().flat_map(|c| ["--", c.as_str()]))
            .output()
            .unwrap();
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{}{}",
            stdout(&out),
            stderr(&out)
        );
        outputs.push((out.status.code(), stdout(&out)));
    }
    for (i, other) in outputs.iter().enumerate().skip(1) {
        if outputs[0] != *other {
            panic!("{}", divergence(case, &outputs[0], other, i + 1));
        }
    }
    let replays = replays_of_the_failing_token(case, &outputs[0], prefix.path(), commands);
    eprintln!(
        "{} of {} runs identical, {replays}: {}",
        outputs.len(),
        outputs.len(),
        commands.join(" | ")
    );
    outputs.remove(0).1
}

/// When `run` failed, replays its token [`repeats`] times on `prefix` and
/// checks each replay fails again along the same trace; says what it did.
fn replays_of_the_failing_token(
    case: &str,
    run: &(Option<i32>, String),
    prefix: &std::path::Path,
    commands: &[String],
) -> String {
    if run.0 != Some(1) {
        return "no failing token to replay".to_string();
    }
    let line_after = |prefix: &str| {
        run.1
            .lines()
            .find_map(|l| l.strip_prefix(prefix))
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("{case}: a failing run prints `{prefix}`: {}", run.1))
            .to_string()
    };
    let (token, execution) = (line_after("token: "), line_after("FAIL: execution "));
    let header = format!("({token}):");
    let trace_after = |text: &str, header: &str| -> Vec<String> {
        text.lines()
            .skip_while(|l| !l.contains(header))
            .skip(1)
            .take_while(|l| l.starts_with("  ["))
            .map(str::to_string)
            .collect()
    };
    let failing_trace = trace_after(&run.1, &header);
    assert!(
        !failing_trace.is_empty(),
        "{case}: the failing execution's trace: {}",
        run.1
    );
    for n in 1..=repeats() {
        let out = prefixrace()
            .args(["run", "--trace", "--seed", "5", "--fail-on", "^ERROR"])
            .args(["--execution", &execution, "--token", &token, "--prefix"])
            .arg(prefix)
            .args(commands.iter().flat_map(|c| ["--", c.as_str()]))
            .output()
            .unwrap();
        let text = stdout(&out);
        let replayed = (out.status.code(), trace_after(&text, &header));
        if replayed != (Some(1), failing_trace.clone()) {
            panic!(
                "{}",
                divergence(&format!("{case}-replay"), run, &(replayed.0, text), n)
            );
        }
    }
    format!("its failing token replayed {} of {}", repeats(), repeats())
}

/// Keeps run 1 and run `n` of `case` in files and says where they part.
fn divergence(
    case: &str,
    first: &(Option<i32>, String),
    other: &(Option<i32>, String),
    n: usize,
) -> String {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("gate-determinism");
    std::fs::create_dir_all(&dir).unwrap();
    let kept = |run: usize, (code, text): &(Option<i32>, String)| {
        let path = dir.join(format!("{case}-run-{run}.txt"));
        std::fs::write(&path, format!("exit: {code:?}\n{text}")).unwrap();
        path.display().to_string()
    };
    let (one, two) = (kept(1, first), kept(n, other));
    let line = first
        .1
        .lines()
        .zip(other.1.lines())
        .position(|(a, b)| a != b)
        .map_or("the line counts".to_string(), |i| format!("line {}", i + 1));
    format!(
        "{case}: run {n} differs from run 1 at {line} (exit {:?} vs {:?}); both kept: {one} {two}",
        first.0, other.0
    )
}

/// A plain importer (no waiting): it may run before the package is there
/// and fail, which is as deterministic as any other outcome, with far fewer
/// gated calls than a spinning one.
fn plain_importer(py: &str, site: &str) -> String {
    format!("PYTHONPATH=\"$PREFIX/{site}\" exec env -u PYTHONDONTWRITEBYTECODE {py} -c 'import M'")
}

/// Python, its site-packages under a prefix, and a wheel with an extension
/// module in a scratch directory that lives as long as the value.
struct WheelCase {
    py: String,
    site: String,
    wheel: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl WheelCase {
    fn new() -> Self {
        let py = python();
        let site = site_packages(&py);
        let dir = tempfile::tempdir().unwrap();
        let wheel = wheel_with_extension(dir.path());
        WheelCase {
            py,
            site,
            wheel,
            _dir: dir,
        }
    }

    fn pip(&self) -> String {
        direct_install(&self.py, &self.wheel)
    }

    fn importer(&self) -> String {
        plain_importer(&self.py, &self.site)
    }
}

#[test]
#[cfg_attr(
    prefixrace_no_strace,
    ignore = "ptrace is not permitted here (strace -f cannot trace): the gate needs it"
)]
fn pip_against_python_repeats_its_runs() {
    if !gate_permitted() {
        return;
    }
    let case = WheelCase::new();
    let report = identical_runs("pip-vs-python3", RANDOM_2, &[case.pip(), case.importer()]);
    assert!(
        report.contains("[B] "),
        "the importer's calls are traced: {report}"
    );
}

#[test]
#[cfg_attr(
    prefixrace_no_strace,
    ignore = "ptrace is not permitted here (strace -f cannot trace): the gate needs it"
)]
fn pip_against_pip_repeats_its_runs() {
    if !gate_permitted() {
        return;
    }
    let case = WheelCase::new();
    let report = identical_runs("pip-vs-pip", AUTO_10, &[case.pip(), case.pip()]);
    assert!(
        report.contains("[Errno 2] No such file or directory"),
        "auto finds the two-pip race, so its token is replayed: {report}"
    );
    assert!(report.contains("[B] "), "both pips are traced: {report}");
}

#[test]
#[cfg_attr(
    prefixrace_no_strace,
    ignore = "ptrace is not permitted here (strace -f cannot trace): the gate needs it"
)]
fn uv_against_python_repeats_its_runs() {
    if !gate_permitted() {
        return;
    }
    let Some(version) = uv() else {
        eprintln!("SKIPPED the uv case: uv is not installed (pip install uv)");
        return;
    };
    let case = WheelCase::new();
    // --quiet: uv prints how long it took ("Resolved 1 package in 4ms"),
    // and the report echoes the commands' stderr; clocks are not the gate's
    // to control (docs/gate.md).
    let uv = format!(
        "exec uv pip install --quiet --no-deps --offline --no-cache --python {} --prefix \"$PREFIX\" '{}'",
        case.py,
        case.wheel.display()
    );
    let report = identical_runs("uv-vs-python3", RANDOM_2, &[uv, case.importer()]);
    assert!(report.contains("[A"), "{version}: {report}");
}
