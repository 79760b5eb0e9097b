//! Errors with a location, one line (issue 16): each case feeds a real bad
//! input to the CLI binary and checks exit 2, exactly one stderr line, the
//! file named, and the line, entry or member and the field where there is
//! one.

mod cli_support;

use std::io::Write;
use std::path::Path;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use cli_support::*;
use sha2::{Digest, Sha256};

/// A wheel whose one member's deflate data is damaged after its header, so
/// the member cannot be inflated (its RECORD line is honest).
fn corrupt_wheel(dir: &Path) -> String {
    let data = b"x = 1\n".repeat(100);
    let digest = URL_SAFE_NO_PAD.encode(Sha256::digest(&data));
    let path = dir.join("demo-1.0-py3-none-any.whl");
    let mut w = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    w.start_file("demo/__init__.py", options).unwrap();
    w.write_all(&data).unwrap();
    w.start_file("demo-1.0.dist-info/RECORD", options).unwrap();
    write!(
        w,
        "demo/__init__.py,sha256={digest},{}\ndemo-1.0.dist-info/RECORD,,\n",
        data.len()
    )
    .unwrap();
    w.finish().unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    let name = b"demo/__init__.py";
    let at = bytes.windows(name.len()).position(|w| w == name).unwrap() + name.len();
    for b in &mut bytes[at + 2..at + 12] {
        *b ^= 0xff;
    }
    std::fs::write(&path, bytes).unwrap();
    path.to_str().unwrap().to_string()
}

/// A member that cannot be inflated was reported as inflating past its
/// RECORD size; now the member, its RECORD line and the real cause.
#[test]
fn a_corrupt_wheel_member_is_named_with_its_record_line_and_the_cause() {
    let dir = tempfile::tempdir().unwrap();
    let wheel = corrupt_wheel(dir.path());
    refused(
        &["explore", "--package", &wheel, "--schedules", "1"],
        &[
            "demo-1.0-py3-none-any.whl!demo-1.0.dist-info/RECORD:1: demo/__init__.py: cannot read member:",
            "deflate",
        ],
    );
}

/// An empty RECORD names the file and the field (it has no line).
#[test]
fn an_empty_record_names_the_file_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("demo.RECORD");
    std::fs::write(&record, "").unwrap();
    refused(
        &["record", "record-file", record.to_str().unwrap()],
        &["demo.RECORD: record: RECORD lists no files"],
    );
}

/// A gzip strace log whose deflate stream is broken names the log and gzip.
#[test]
fn a_corrupt_gzip_strace_log_names_the_log_and_gzip() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("cp.log.gz");
    std::fs::write(&log, b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03garbage").unwrap();
    refused(
        &["record", "strace", log.to_str().unwrap()],
        &["cp.log.gz: gzip: cannot decompress"],
    );
}

/// clap's own multi-line errors (missing required arguments) are one line.
#[test]
fn a_missing_required_argument_is_one_line() {
    refused(
        &["replay"],
        &["required arguments were not provided", "--strategy"],
    );
}

#[test]
fn a_failing_serial_reference_over_a_long_path_is_one_short_line() {
    // Issue 16: the serial reference's failure echoed the whole path, a
    // 4.4 KB or 200 KB line. Here pip[two] meets a file where it needs a
    // directory, 3,600 bytes down.
    let dir = tempfile::tempdir().unwrap();
    let deep = vec!["b".repeat(200); 18].join("/");
    let body = format!(
        "name = \"longref\"\nprefix = \"/p\"\n\n[[package]]\nname = \"one\"\n[[package.file]]\npath = \"{deep}\"\nsize = 3\n\n[[package]]\nname = \"two\"\n[[package.file]]\npath = \"{deep}/y\"\nsize = 3\n"
    );
    let file = dir.path().join("longref.toml");
    std::fs::write(&file, body).unwrap();
    let file = file.display().to_string();
    refused(
        &["explore", &file, "--strategy", "direct-install"],
        &[
            &file,
            "serial reference",
            "pip[two]",
            "[Errno 20] Not a directory",
        ],
    );
    let (_, _, err) = run(&["explore", &file, "--strategy", "direct-install"]);
    assert!(
        err.chars().count() < 700,
        "shortened: {} characters",
        err.chars().count()
    );
}
