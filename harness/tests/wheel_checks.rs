//! Wheels are checked the way pip checks them: every member RECORD lists
//! has its size and hash, nothing is in the wheel that RECORD does not
//! list, no name is held twice, sizes are plain decimals, and a member
//! stops inflating one byte past its RECORD size. Each refusal is exit 2
//! and one line naming the member; `--no-verify` skips sizes and hashes.

mod cli_support;

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use cli_support::*;
use sha2::{Digest, Sha256};

const RECORD: &str = "demo-1.0.dist-info/RECORD";

/// The RECORD line pip writes for `bytes` at `name`.
fn record_line(name: &str, bytes: &[u8]) -> String {
    let digest = URL_SAFE_NO_PAD.encode(Sha256::digest(bytes));
    format!("{name},sha256={digest},{}\n", bytes.len())
}

/// Writes a wheel of `members` (name, bytes) and `record` as its RECORD.
fn wheel(dir: &Path, members: &[(&str, Vec<u8>)], record: &str) -> PathBuf {
    let path = dir.join("demo-1.0-py3-none-any.whl");
    let mut w = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in members {
        w.start_file(*name, options).unwrap();
        w.write_all(bytes).unwrap();
    }
    w.start_file(RECORD, options).unwrap();
    w.write_all(record.as_bytes()).unwrap();
    w.finish().unwrap();
    path
}

fn honest_members() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("demo/__init__.py", b"x = 1\n".to_vec()),
        ("demo-1.0.dist-info/METADATA", b"Name: demo\n".to_vec()),
    ]
}

fn honest_record(members: &[(&str, Vec<u8>)]) -> String {
    let mut r: String = members.iter().map(|(n, b)| record_line(n, b)).collect();
    r.push_str(&format!("{RECORD},,\n"));
    r
}

fn explore(wheel: &Path, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec!["explore", "--package", wheel.to_str().unwrap()];
    args.extend(["--strategy", "direct-install", "--schedules", "2"]);
    args.extend(extra);
    run(&args)
}

/// Exit 2 and one stderr line holding every one of `expected`.
fn refused(wheel: &Path, expected: &[&str]) {
    let (code, out, err) = explore(wheel, &[]);
    assert_eq!(code, 2, "{out}{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    for e in expected {
        assert!(err.contains(e), "{e:?} in {err}");
    }
}

#[test]
fn an_honest_wheel_loads() {
    let dir = tempfile::tempdir().unwrap();
    let members = honest_members();
    let w = wheel(dir.path(), &members, &honest_record(&members));
    let (code, out, err) = explore(&w, &[]);
    assert!(matches!(code, 0 | 1), "{out}{err}");
}

#[test]
fn a_member_whose_bytes_differ_from_its_hash_is_refused_unless_no_verify() {
    let dir = tempfile::tempdir().unwrap();
    let members = honest_members();
    let record = honest_record(&members);
    let mut tampered = members.clone();
    tampered[0].1 = b"x = 2\n".to_vec(); // same size, other bytes
    let w = wheel(dir.path(), &tampered, &record);
    refused(&w, &["demo/__init__.py", "RECORD:1", "sha256 differs"]);
    let (code, out, err) = explore(&w, &["--no-verify"]);
    assert!(matches!(code, 0 | 1), "--no-verify loads it: {out}{err}");
}

#[test]
fn a_member_whose_size_differs_from_record_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let members = honest_members();
    // RECORD says 7 bytes for a 6-byte member (the hash is of the 6 bytes).
    let record = honest_record(&members).replacen(",6\n", ",7\n", 1);
    let w = wheel(dir.path(), &members, &record);
    refused(&w, &["demo/__init__.py", "is 6 bytes, RECORD says 7"]);
}

#[test]
fn a_member_that_inflates_past_its_record_size_stops_there() {
    // Declared 100 bytes, inflates to 64 MiB: reading stops at 101.
    let dir = tempfile::tempdir().unwrap();
    let mut members = honest_members();
    members[0].1 = vec![b'#'; 64 << 20];
    let record = honest_record(&members).replacen(",67108864\n", ",100\n", 1);
    let w = wheel(dir.path(), &members, &record);
    refused(&w, &["demo/__init__.py", "inflates past 100 bytes"]);
}

#[test]
fn a_member_record_does_not_list_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let members = honest_members();
    let record = honest_record(&members);
    let mut extra = members.clone();
    extra.push(("demo/hidden.py", b"import os\n".to_vec()));
    let w = wheel(dir.path(), &extra, &record);
    refused(&w, &["demo/hidden.py", "does not list"]);
}

#[test]
fn a_name_held_twice_is_refused() {
    // The zip writer refuses duplicates, so the second member is renamed
    // in the archive's bytes afterwards (same length, both headers).
    let dir = tempfile::tempdir().unwrap();
    let mut members = honest_members();
    members.push(("demo/__init__.pz", b"x = 1\n".to_vec()));
    let w = wheel(dir.path(), &members, &honest_record(&members));
    let mut bytes = std::fs::read(&w).unwrap();
    let from = b"demo/__init__.pz";
    let mut i = 0;
    while let Some(at) = bytes[i..].windows(from.len()).position(|win| win == from) {
        bytes[i + at + from.len() - 1] = b'y';
        i += at + from.len();
    }
    std::fs::write(&w, bytes).unwrap();
    refused(&w, &["demo/__init__.py", "two members of this name"]);
}

#[test]
fn sizes_are_plain_decimals_and_paths_have_no_byte_order_mark() {
    let dir = tempfile::tempdir().unwrap();
    let members = honest_members();
    let plus = honest_record(&members).replacen(",6\n", ",+6\n", 1);
    let w = wheel(dir.path(), &members, &plus);
    refused(&w, &["RECORD:1", "size", "\"+6\" is not a byte count"]);
    // In a wheel, a BOM-prefixed name is a member RECORD does not list; a
    // RECORD file alone is read by the same parser.
    let bom = dir.path().join("demo-1.0.RECORD");
    std::fs::write(&bom, format!("\u{feff}{}", honest_record(&members))).unwrap();
    refused(&bom, &["RECORD:1", "path", "byte-order mark"]);
}

#[test]
fn the_same_wheel_given_twice_is_two_numbered_jobs() {
    // Two installs of one wheel at once (SageMath 33060's shape): each is
    // a job of its own, numbered in the order given, instead of a
    // `duplicate job name` refusal.
    let wheel = "scenarios/payloads/idna-3.7-py3-none-any.whl";
    let (code, out, err) = run(&[
        "explore",
        "--package",
        wheel,
        "--package",
        wheel,
        "--strategy",
        "staged-copy",
        "--seed",
        "1",
    ]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("scenario: ad-hoc (2 packages, 0 activities)"),
        "{out}"
    );
    // Whichever copy comes second fails on the directory the other made.
    assert!(
        (out.contains("error: cp[idna-1] exited 1") || out.contains("error: cp[idna-2] exited 1"))
            && out.contains("cp: cannot create directory '/sage/local/./lib': File exists"),
        "{out}"
    );
    assert!(
        out.contains("cp[idna-1]") && out.contains("cp[idna-2]"),
        "{out}"
    );
}
