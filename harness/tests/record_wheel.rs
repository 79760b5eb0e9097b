//! `record wheel` / `record record-file`, and `explore --package` on real and
//! generated wheels.

mod cli_support;

use cli_support::*;

use std::io::Write;

use base64::Engine as _;
use sha2::Digest as _;

fn repo(rel: &str) -> String {
    format!("{}/../{rel}", env!("CARGO_MANIFEST_DIR"))
}

fn explore_package(package: &str, module: &str, strategy: &str) -> (i32, String) {
    let (code, out, err) = run(&[
        "explore",
        "--package",
        package,
        "--import",
        module,
        "--strategy",
        strategy,
        "--jobs",
        "1",
    ]);
    (code, format!("{out}{err}"))
}

const IDNA: &str = "scenarios/payloads/idna-3.7-py3-none-any.whl";

#[test]
fn a_real_pure_python_wheel_races_its_importer_under_staged_copy() {
    let (code, out) = explore_package(&repo(IDNA), "idna", "staged-copy");
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("cp: cannot create directory '/sage/local/./lib/python3.9/site-packages/idna/__pycache__': File exists"),
        "{out}"
    );
    let (code, out) = explore_package(&repo(IDNA), "idna", "direct-install");
    assert_eq!(code, 0, "{out}");
}

/// Builds a wheel of a pure-Python package `name` with `modules` submodules.
fn build_wheel(dir: &std::path::Path, name: &str, modules: usize) -> std::path::PathBuf {
    let path = dir.join(format!("{name}-1.0-py3-none-any.whl"));
    let mut files: Vec<(String, Vec<u8>)> = vec![(
        format!("{name}/__init__.py"),
        b"from . import m0\n".to_vec(),
    )];
    for i in 0..modules {
        files.push((format!("{name}/m{i}.py"), format!("X = {i}\n").into_bytes()));
    }
    files.push((
        format!("{name}-1.0.dist-info/METADATA"),
        format!("Name: {name}\nVersion: 1.0\n").into_bytes(),
    ));
    let mut record = String::new();
    for (p, b) in &files {
        let digest =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(b));
        record.push_str(&format!("{p},sha256={digest},{}\n", b.len()));
    }
    record.push_str(&format!("{name}-1.0.dist-info/RECORD,,\n"));
    files.push((format!("{name}-1.0.dist-info/RECORD"), record.into_bytes()));
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let opts = zip::write::SimpleFileOptions::default();
    for (p, b) in &files {
        zip.start_file(p.as_str(), opts).unwrap();
        zip.write_all(b).unwrap();
    }
    zip.finish().unwrap();
    path
}

#[test]
fn any_generated_package_with_a_package_directory_races_its_importer() {
    let dir = tempfile::tempdir().unwrap();
    for (name, modules) in [("alpha", 1), ("beta_pkg", 4), ("gamma", 9)] {
        let whl = build_wheel(dir.path(), name, modules);
        // The wheel itself, and its RECORD on its own.
        let record = dir.path().join(format!("{name}-1.0.RECORD"));
        let mut zip = zip::ZipArchive::new(std::fs::File::open(&whl).unwrap()).unwrap();
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(
            &mut zip
                .by_name(&format!("{name}-1.0.dist-info/RECORD"))
                .unwrap(),
            &mut bytes,
        )
        .unwrap();
        std::fs::write(&record, bytes).unwrap();
        for package in [&whl, &record] {
            let (code, out) = explore_package(package.to_str().unwrap(), name, "staged-copy");
            assert_eq!(code, 1, "{name}: {out}");
            assert!(
                out.contains(&format!("site-packages/{name}/__pycache__")),
                "{name}: {out}"
            );
            assert!(out.contains("File exists"), "{out}");
        }
    }
}

#[test]
fn recorded_wheel_payloads_are_deterministic_and_keep_the_race() {
    let dir = tempfile::tempdir().unwrap();
    let whl = build_wheel(dir.path(), "delta", 3);
    let (c1, a, e1) = run(&["record", "wheel", whl.to_str().unwrap()]);
    let (c2, b, _) = run(&["record", "wheel", whl.to_str().unwrap()]);
    assert_eq!((c1, c2), (0, 0), "{e1}");
    assert_eq!(a, b);
    assert!(
        a.contains("name = \"delta\"") && a.contains("path = \"delta/m2.py\""),
        "{a}"
    );
    assert!(
        a.contains("text = \"X = 2\\n\""),
        "real bytes are kept: {a}"
    );
    let toml = dir.path().join("delta.toml");
    std::fs::write(&toml, &a).unwrap();
    let (code, out) = explore_package(toml.to_str().unwrap(), "delta", "staged-copy");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("delta/__pycache__': File exists"), "{out}");
    // A RECORD recorded the same way loads and races the same way.
    let (code, rec, err) = run(&[
        "record",
        "record-file",
        &repo("scenarios/payloads/Cython-0.29.21.RECORD"),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        rec.contains("name = \"Cython\"") && rec.contains("sha256 = "),
        "{rec}"
    );
    let cy = dir.path().join("cython.toml");
    std::fs::write(&cy, &rec).unwrap();
    let (code, out) = explore_package(cy.to_str().unwrap(), "Cython", "staged-copy");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("Cython/__pycache__': File exists"), "{out}");
}

#[test]
fn malformed_wheels_and_records_exit_2_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let whl = build_wheel(dir.path(), "eps", 2);
    let bytes = std::fs::read(&whl).unwrap();
    let truncated = dir.path().join("eps-1.0-py3-none-any-truncated.whl");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let (code, _, err) = run(&["record", "wheel", truncated.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains(truncated.to_str().unwrap()), "{err}");
    let (code, _, err) = run(&[
        "explore",
        "--package",
        truncated.to_str().unwrap(),
        "--import",
        "eps",
    ]);
    assert_eq!(code, 2, "{err}");

    // A wheel whose RECORD has a bad hash names the member and the line.
    let bad = dir.path().join("bad-1.0-py3-none-any.whl");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&bad).unwrap());
    let opts = zip::write::SimpleFileOptions::default();
    zip.start_file("bad/__init__.py", opts).unwrap();
    zip.write_all(b"x").unwrap();
    zip.start_file("bad-1.0.dist-info/RECORD", opts).unwrap();
    zip.write_all(b"bad/__init__.py,sha256=%%%,1\nbad-1.0.dist-info/RECORD,,\n")
        .unwrap();
    zip.finish().unwrap();
    let (code, _, err) = run(&["record", "wheel", bad.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(&format!(
            "{}!bad-1.0.dist-info/RECORD:1: hash:",
            bad.display()
        )),
        "{err}"
    );

    let record = dir.path().join("RECORD");
    std::fs::write(
        &record,
        "eps/__init__.py,sha256=AAAA,3\neps/x.py,sha256=not-base64!,3\n",
    )
    .unwrap();
    let (code, _, err) = run(&["record", "record-file", record.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(&format!("{}:1: hash:", record.display())),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

/// The manifest written from a wheel loads back into the same payload: same
/// paths in the same order, same modes and sizes, and the real bytes of
/// every small text file.
#[test]
fn a_recorded_wheel_manifest_loads_back_into_the_same_payload() {
    use prefixrace::scenario::{load_payload_toml, read_wheel, PayloadKind, DEFAULT_SITE_PACKAGES};
    let whl = repo(IDNA);
    let from_wheel = read_wheel(std::path::Path::new(&whl), DEFAULT_SITE_PACKAGES).unwrap();
    let (code, text, err) = run(&["record", "wheel", &whl]);
    assert_eq!(code, 0, "{err}");
    let dir = tempfile::tempdir().unwrap();
    let toml = dir.path().join("idna.toml");
    std::fs::write(&toml, &text).unwrap();
    let back = load_payload_toml(&toml, DEFAULT_SITE_PACKAGES).unwrap();
    assert_eq!((back.name.as_str(), back.version.as_str()), ("idna", "3.7"));
    assert_eq!(back.payload.len(), from_wheel.payload.len());
    let mut kept_bytes = 0;
    for (a, b) in from_wheel.payload.iter().zip(&back.payload) {
        assert_eq!(a.path, b.path);
        assert_eq!(a.mode, b.mode, "{}", a.path);
        let (PayloadKind::File(x), PayloadKind::File(y)) = (&a.kind, &b.kind) else {
            panic!("{} is not a file", a.path)
        };
        assert_eq!(x.len(), y.len(), "{}", a.path);
        if x.len() <= 2048 && std::str::from_utf8(x.bytes()).is_ok() {
            assert_eq!(x.bytes(), y.bytes(), "{}", a.path);
            kept_bytes += 1;
        }
    }
    assert!(kept_bytes >= 3, "small files keep their bytes");
}

#[test]
fn a_wheel_recorded_as_a_scenario_loads_with_explore_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("idna.toml");
    let (code, _, err) = run(&[
        "record",
        "wheel",
        &repo(IDNA),
        "--scenario",
        "--import",
        "idna",
        "-o",
        file.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let f = file.to_str().unwrap();
    let (code, out, _) = run(&["explore", f, "--strategy", "staged-copy", "--jobs", "1"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("idna/__pycache__': File exists"), "{out}");
    let (code, out, _) = run(&[
        "explore",
        f,
        "--strategy",
        "direct-install",
        "--jobs",
        "1",
        "--schedules",
        "200",
    ]);
    assert_eq!(code, 0, "{out}");
    // --import without --scenario is a usage error, not a silently dropped flag.
    let (code, _, err) = run(&["record", "wheel", &repo(IDNA), "--import", "idna"]);
    assert_eq!(code, 2, "{err}");
}
