//! Parser fuzzing that keeps running: every reader of outside input (the
//! scenario TOML, RECORD, wheel zip, strace log plain and gzip, merge JSON,
//! replay token) is fed arbitrary bytes and structure-aware mutations of a
//! real input. Each must return a value or one error line: never panic
//! (proptest reports a panic as a failure and shrinks it), never print an
//! error over several lines.
//!
//! CI runs `PREFIXRACE_FUZZ_CASES` cases of each (500 by default); the long
//! run in docs/hardening.md sets it to 100,000. Every failing input proptest
//! finds is shrunk and kept in `harness/tests/fuzz_corpus/NAME/`, and the
//! corpus is replayed first.

use std::cell::Cell;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use prefixrace::internals::merge::merge;
use prefixrace::internals::record::strace::{parse_log, read_log};
use prefixrace::internals::schedule::token;
use prefixrace::scenario::{self, parse_record, read_wheel, FileSource};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestError, TestRunner};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn cases() -> u32 {
    std::env::var("PREFIXRACE_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(500)
}

fn runner() -> TestRunner {
    TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    })
}

/// Where the inputs that once failed a fuzzer are kept, one directory per
/// fuzzer (`harness/tests/fuzz_corpus/NAME/`): each is checked before the
/// random cases, so a fixed crasher stays fixed.
fn corpus(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz_corpus")
        .join(name)
}

/// Checks every kept input of `name`'s corpus, in file-name order.
fn replay_corpus(name: &str, check: &impl Fn(Vec<u8>) -> Result<(), TestCaseError>) {
    let Ok(entries) = std::fs::read_dir(corpus(name)) else {
        return;
    };
    let mut files: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
    files.sort();
    for file in files {
        if let Err(e) = check(std::fs::read(&file).unwrap()) {
            panic!("fuzz {name}: {} fails again: {e}", file.display());
        }
    }
}

/// Keeps a failing input in `name`'s corpus, named by its hash, and says
/// where: commit it with the fix.
fn keep_in_corpus(name: &str, input: &[u8]) -> PathBuf {
    use sha2::Digest;
    let dir = corpus(name);
    std::fs::create_dir_all(&dir).unwrap();
    let hash = sha2::Sha256::digest(input);
    let file = dir.join(
        hash[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>(),
    );
    std::fs::write(&file, input).unwrap();
    file
}

/// Checks `name`'s corpus, then runs `check` on [`cases`] inputs drawn from
/// `inputs`, and prints the case count, the time taken and the slowest
/// case: the figures the long run in docs/hardening.md quotes (a hang is a
/// case that never returns). The slowest input is kept under the test
/// scratch directory, to be timed alone; a failing one, shrunk, is kept in
/// the corpus.
fn fuzz(
    name: &str,
    inputs: impl Strategy<Value = Vec<u8>>,
    check: impl Fn(Vec<u8>) -> Result<(), TestCaseError>,
) {
    replay_corpus(name, &check);
    let slowest = Cell::new(Duration::ZERO);
    let slowest_input = std::cell::RefCell::new(Vec::new());
    let start = Instant::now();
    let outcome = runner().run(&inputs, |bytes| {
        let case = Instant::now();
        let kept = bytes.clone();
        let verdict = check(bytes);
        if case.elapsed() > slowest.get() {
            slowest.set(case.elapsed());
            *slowest_input.borrow_mut() = kept;
        }
        verdict
    });
    if let Err(TestError::Fail(reason, input)) = &outcome {
        let kept = keep_in_corpus(name, input);
        panic!(
            "fuzz {name}: {reason}; the input is kept in {}",
            kept.display()
        );
    }
    outcome.unwrap();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-slowest");
    std::fs::create_dir_all(&dir).unwrap();
    let kept = dir.join(name);
    std::fs::write(&kept, &*slowest_input.borrow()).unwrap();
    eprintln!(
        "fuzz {name}: {} cases in {:.1} s, slowest case {:.1} ms (kept in {})",
        cases(),
        start.elapsed().as_secs_f64(),
        slowest.get().as_secs_f64() * 1e3,
        kept.display()
    );
}

/// The contract for an error: one line.
fn one_line<T, E: std::fmt::Display>(r: Result<T, E>) -> Result<(), TestCaseError> {
    if let Err(e) = r {
        let text = e.to_string();
        prop_assert!(
            !text.contains('\n'),
            "an error over several lines: {text:?}"
        );
    }
    Ok(())
}

/// An edit of a real input: overwrite, insert or delete a byte at a place.
#[derive(Debug, Clone)]
enum Edit {
    Set(usize, u8),
    Insert(usize, u8),
    Delete(usize),
}

fn edits() -> impl Strategy<Value = Vec<Edit>> {
    // Bytes that matter to the formats more often than chance gives them.
    let byte = prop_oneof![
        any::<u8>(),
        prop::sample::select(b"\n\r\t\",=[]{}()/.\\#0123456789-+ \x00\x7f\xff".to_vec()),
    ];
    let edit = prop_oneof![
        (any::<usize>(), byte.clone()).prop_map(|(i, b)| Edit::Set(i, b)),
        (any::<usize>(), byte).prop_map(|(i, b)| Edit::Insert(i, b)),
        any::<usize>().prop_map(Edit::Delete),
    ];
    prop::collection::vec(edit, 1..8)
}

fn mutate(base: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut out = base.to_vec();
    for e in edits {
        let n = out.len().max(1);
        match *e {
            Edit::Set(i, b) if !out.is_empty() => out[i % n] = b,
            Edit::Insert(i, b) => out.insert(i % (out.len() + 1), b),
            Edit::Delete(i) if !out.is_empty() => {
                out.remove(i % n);
            }
            _ => {}
        }
    }
    out
}

/// Arbitrary bytes, or a real input mutated.
fn input(base: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..512),
        edits().prop_map(move |e| mutate(&base, &e)),
    ]
}

/// Serves a scenario's payload files from `scenarios/`, as loading does.
struct Scenarios;

impl FileSource for Scenarios {
    fn read(&self, rel: &str) -> std::io::Result<Vec<u8>> {
        std::fs::read(self.resolve(rel))
    }
    fn resolve(&self, rel: &str) -> PathBuf {
        root().join("scenarios").join(rel)
    }
}

#[test]
fn scenario_toml() {
    let mut base = std::fs::read(root().join("scenarios/namespace-backports.toml")).unwrap();
    // An [expect] table too, so that its reader is fuzzed with the rest.
    base.extend_from_slice(
        b"\n[expect]\nverdict = \"fail\"\nstrategy = \"staged-copy\"\ntool = \"sage\"\nincident = \"sage#29585\"\nmessage = \"File exists\"\n",
    );
    // And a script activity using every kind of step, for the kit's reader.
    base.extend_from_slice(
        br#"
[[activity]]
name = "pnpm-a"
kind = "script"
program = "pnpm"
steps = [
  { do = "makedirs", dir = "n" },
  { do = "mkdir", dir = "n/m" },
  { do = "write", path = "n/a", text = "x\n", how = "atomic", tmp = "shared" },
  { do = "write-tree", dir = "n/t", files = ["a", "b/c"], version = "1", how = "exclusive" },
  { do = "remove", path = "n/t", style = "rimraf", ignore-errors = true },
  { do = "rename", from = "n/a", to = "n/b", missing-ok = true },
  { do = "swap-in", new = "n/m", target = "n/s" },
  { do = "symlink", target = "s", link = "n/l", how = "temp-then-rename" },
  { do = "lock", path = "n.lock", kind = "exclusive-file" },
  { do = "unlock", path = "n.lock", kind = "exclusive-file" },
  { do = "skip-if-exists", path = "n/done" },
  { do = "wait-for", path = "n/b" },
  { do = "read", path = "n/b", message = "Error: Cannot find module '{path}'" },
]
"#,
    );
    fuzz("scenario_toml", input(base), |bytes| {
        one_line(scenario::parse("s.toml", &bytes, &Scenarios))
    });
}

#[test]
fn record() {
    let base = std::fs::read(root().join("scenarios/payloads/pip-21.1.2.RECORD")).unwrap();
    fuzz("record", input(base), |bytes| {
        one_line(parse_record(
            "R",
            &bytes,
            "lib/python3.9/site-packages",
            None,
        ))
    });
}

#[test]
fn wheel_zip() {
    let base = std::fs::read(root().join("scenarios/payloads/idna-3.7-py3-none-any.whl")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.whl");
    fuzz("wheel_zip", input(base), |bytes| {
        std::fs::write(&path, &bytes).unwrap();
        one_line(read_wheel(&path, "lib/python3.9/site-packages"))
    });
}

fn real_trace() -> Vec<u8> {
    let log = root().join("scenarios/traces/cython.stage-cp-Rp.trace.gz");
    let text = read_log(&log).unwrap();
    // The first part is plenty: the mutations are what vary.
    text.lines()
        .take(400)
        .collect::<Vec<_>>()
        .join("\n")
        .into_bytes()
}

#[test]
fn strace_log() {
    fuzz("strace_log", input(real_trace()), |bytes| {
        let text = String::from_utf8_lossy(&bytes);
        one_line(parse_log(
            "t.log",
            &text,
            Some("/sage/local"),
            Some("/build"),
        ))?;
        one_line(parse_log("t.log", &text, None, None))
    });
}

#[test]
fn strace_log_gzip() {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&real_trace()).unwrap();
    let base = gz.finish().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.log.gz");
    fuzz("strace_log_gzip", input(base), |bytes| {
        std::fs::write(&path, &bytes).unwrap();
        match read_log(&path) {
            Ok(text) => one_line(parse_log("t.log", &text, None, None)),
            Err(e) => one_line::<(), _>(Err(e)),
        }
    });
}

fn a_report() -> Vec<u8> {
    let out = assert_cmd::Command::cargo_bin("prefixrace")
        .unwrap()
        .current_dir(root())
        .args([
            "explore",
            "scenarios/sage-32361.toml",
            "--strategy",
            "direct-install",
        ])
        .args(["--scheduler", "dpor", "--schedules", "3", "--shard", "1/2"])
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn merge_json() {
    fuzz("merge_json", input(a_report()), |bytes| {
        let text = String::from_utf8_lossy(&bytes).into_owned();
        one_line(merge(&[("a.json".to_string(), text)]))
    });
}

#[test]
fn replay_token() {
    let base = token::encode(&[3, 0, 1, 7, 2, 2, 0, 1]).into_bytes();
    fuzz("replay_token", input(base), |bytes| {
        one_line(token::decode(&String::from_utf8_lossy(&bytes)))
    });
}
