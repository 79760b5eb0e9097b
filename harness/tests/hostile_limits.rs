//! Hostile input, round two: inputs that used to hang, panic or exhaust
//! memory are refused in one line with exit 2, before the time or memory
//! they would cost is spent (the limits are in `src/limits.rs` and the
//! table in docs/hardening.md).

mod cli_support;

use std::io::Write;
use std::path::Path;

use cli_support::*;

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}

/// A scenario whose only package reads its RECORD (or wheel) from `source`.
fn scenario_with_source(dir: &Path, field: &str, source: &str) -> String {
    let path = dir.join("s.toml");
    std::fs::write(
        &path,
        format!(
            "name = \"s\"\nprefix = \"/p\"\nsite-packages = \"lib\"\n\n[[package]]\nname = \"a\"\n{field} = \"{source}\"\n"
        ),
    )
    .unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn a_fifo_named_as_a_record_wheel_or_payload_is_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    for (field, name) in [("record", "R"), ("wheel", "w.whl"), ("payload", "p.toml")] {
        let fifo = dir.path().join(name);
        mkfifo(&fifo);
        let scenario = scenario_with_source(dir.path(), field, name);
        refused(
            &["explore", &scenario, "--schedules", "1"],
            &["s.toml:7", "record", "not a regular file (a FIFO)"],
        );
        std::fs::remove_file(&fifo).unwrap();
    }
}

#[test]
fn a_fifo_given_to_package_or_as_the_scenario_is_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("Cython-0.29.21.RECORD");
    mkfifo(&fifo);
    let f = fifo.to_str().unwrap();
    refused(
        &["explore", "--package", f, "--schedules", "1"],
        &[f, "not a regular file (a FIFO)"],
    );
    let scenario = dir.path().join("fifo.toml");
    mkfifo(&scenario);
    let s = scenario.to_str().unwrap();
    refused(&["explore", s], &[s, "not a regular file (a FIFO)"]);
}

#[test]
fn dev_zero_as_a_record_is_refused_instead_of_read_until_memory_runs_out() {
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("R")).unwrap();
    let scenario = scenario_with_source(dir.path(), "record", "R");
    refused(
        &["explore", &scenario, "--schedules", "1"],
        &["s.toml:7", "not a regular file (a character device)"],
    );
}

#[test]
fn pct_depth_and_jobs_out_of_range_are_one_line_not_a_panic_or_a_stall() {
    for depth in ["18446744073709551615", "4294967296", "100000000", "65"] {
        let scheduler = format!("pct:{depth}");
        refused(
            &[
                "explore",
                "scenarios/sage-32361.toml",
                "--scheduler",
                &scheduler,
            ],
            &["pct depth must be a number from 1 to 64"],
        );
    }
    let (code, _, err) = run(&[
        "explore",
        "scenarios/sage-32361.toml",
        "--scheduler",
        "pct:64",
        "--schedules",
        "3",
    ]);
    assert!(matches!(code, 0 | 1), "{err}");
    refused(
        &["explore", "scenarios/sage-32361.toml", "--jobs", "20000"],
        &["--jobs 20000", "from 1 to 1024"],
    );
    let (code, _, err) = run_with(
        &["explore", "scenarios/sage-32361.toml", "--schedules", "1"],
        &[("PREFIXRACE_JOBS", "20000")],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("PREFIXRACE_JOBS=20000"), "{err}");
}

#[test]
fn a_gzip_bomb_of_an_strace_log_stops_at_the_limit() {
    // 300 MiB of one byte, compressed to about 300 KiB: past the 256 MiB
    // input limit, so the reader stops one byte past it and says so.
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("bomb.trace.gz");
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&log).unwrap(),
        flate2::Compression::best(),
    );
    let block = vec![b'a'; 1 << 20];
    for _ in 0..300 {
        gz.write_all(&block).unwrap();
    }
    gz.finish().unwrap();
    let l = log.to_str().unwrap();
    refused(
        &["record", "strace", l, "--prefix", "/p"],
        &[l, "gzip", "larger than the limit of 268435456 bytes"],
    );
}

#[test]
fn names_and_prefixes_with_control_characters_cannot_forge_report_lines() {
    let dir = tempfile::tempdir().unwrap();
    for (field, text, shown) in [
        (
            "name",
            "name = \"a\\nb\"",
            "name: \"a\\nb\" holds the control character '\\n'",
        ),
        (
            "prefix",
            "prefix = \"/a\\nb\"",
            "prefix: \"/a\\nb\" holds the control character '\\n'",
        ),
        (
            "package name",
            "[[package]]\nname = \"p\\u0007q\"",
            "name: \"p\\u{7}q\" holds the control character '\\u{7}'",
        ),
    ] {
        let body = match field {
            "name" => format!("{text}\nprefix = \"/p\"\n[[package]]\nname = \"p\"\n"),
            "prefix" => format!("name = \"s\"\n{text}\n[[package]]\nname = \"p\"\n"),
            _ => format!("name = \"s\"\nprefix = \"/p\"\n{text}\n"),
        };
        let body = format!("{body}[[package.file]]\npath = \"x.py\"\ntext = \"\"\n");
        let path = dir.path().join("s.toml");
        std::fs::write(&path, body).unwrap();
        refused(&["explore", path.to_str().unwrap()], &[shown]);
    }
}

/// Two packages that together declare more entries than a scenario may
/// hold (600,000 + 500,000 > 1,000,000): the second is refused at the
/// RECORD line that crosses the total, naming it, before the rest of its
/// entries are made (it used to be charged whole, after loading).
#[test]
fn a_package_that_crosses_the_scenario_total_is_refused_at_the_line_that_crosses_it() {
    let dir = tempfile::tempdir().unwrap();
    let record = |name: &str, n: usize| {
        let mut f = std::io::BufWriter::new(
            std::fs::File::create(dir.path().join(format!("{name}.RECORD"))).unwrap(),
        );
        for i in 0..n {
            writeln!(f, "{name}/f{i},,").unwrap();
        }
        f.flush().unwrap();
    };
    record("a", 600_000);
    record("b", 500_000);
    let scenario = dir.path().join("s.toml");
    std::fs::write(
        &scenario,
        "name = \"s\"\n\n[[package]]\nname = \"a\"\nrecord = \"a.RECORD\"\n\n[[package]]\nname = \"b\"\nrecord = \"b.RECORD\"\n",
    )
    .unwrap();
    refused(
        &["explore", scenario.to_str().unwrap(), "--schedules", "1"],
        &[
            "b.RECORD:400001: record: package \"b\"",
            "exceed the limit of 1000000 entries in all",
        ],
    );
}
