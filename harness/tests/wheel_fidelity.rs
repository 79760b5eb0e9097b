//! Real wheels installed as pip installs them (issue 17): console scripts
//! from `entry_points.txt`, the python version a wheel's tags name (or
//! `--python`), and bytecode a wheel ships, which is a package file and
//! never "stale".

mod cli_support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use cli_support::*;
use prefixrace::internals::schedule::SerialScheduler;
use prefixrace::internals::{ModelFs, Oracle, Tree};
use prefixrace::scenario::{Scenario, WheelCheck};
use prefixrace::strategy::DirectInstall;
use prefixrace::Setup;

/// Writes wheel `file_name` holding `members` (name, bytes) and a RECORD
/// listing them (without hashes, which pip accepts).
fn wheel(dir: &Path, file_name: &str, members: &[(&str, &[u8])]) -> PathBuf {
    let dist_info = members
        .iter()
        .find_map(|(n, _)| n.split_once(".dist-info/").map(|(d, _)| d))
        .expect("a .dist-info member");
    let record = format!("{dist_info}.dist-info/RECORD");
    let path = dir.join(file_name);
    let mut w = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let options = zip::write::SimpleFileOptions::default();
    let mut listing = String::new();
    for (name, bytes) in members {
        w.start_file(*name, options).unwrap();
        w.write_all(bytes).unwrap();
        listing.push_str(&format!("{name},,\n"));
    }
    listing.push_str(&format!("{record},,\n"));
    w.start_file(record.as_str(), options).unwrap();
    w.write_all(listing.as_bytes()).unwrap();
    w.finish().unwrap();
    path
}

/// The serial reference tree of an ad hoc scenario of `packages`, installed
/// straight into the prefix.
fn reference_tree(packages: &[&Path]) -> Tree {
    let args: Vec<String> = packages.iter().map(|p| p.display().to_string()).collect();
    let scenario = Scenario::ad_hoc(&args, &[], WheelCheck::Verify).unwrap();
    let setup = Setup::new(Arc::new(scenario), &DirectInstall).unwrap();
    Oracle::new(&setup).unwrap().reference().clone()
}

#[test]
fn bytecode_a_wheel_ships_is_a_package_file_not_stale() {
    // numpy ships numpy/distutils/__pycache__/conv_template.cpython-311.pyc;
    // its bytes are real bytecode, not what the model compiles.
    let dir = tempfile::tempdir().unwrap();
    let w = wheel(
        dir.path(),
        "shipsbc-1.0-py3-none-any.whl",
        &[
            ("shipsbc/__init__.py", b"x = 1\n"),
            ("shipsbc/conv_template.py", b"y = 2\n"),
            (
                "shipsbc/__pycache__/conv_template.cpython-311.pyc",
                b"\xa7\r\r\n real bytecode",
            ),
            ("shipsbc-1.0.dist-info/METADATA", b"Name: shipsbc\n"),
        ],
    );
    let (code, out, err) = run(&[
        "explore",
        "--package",
        w.to_str().unwrap(),
        "--strategy",
        "direct-install",
        "--schedules",
        "4",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(!out.contains("stale"), "{out}");
    let tree = reference_tree(&[&w]);
    assert!(
        tree.get("lib/python3.9/site-packages/shipsbc/__pycache__/conv_template.cpython-311.pyc")
            .is_some(),
        "the shipped .pyc is compared as a file"
    );
}

/// The real black wheel shipped for these tests (scenarios/payloads/README.md).
const BLACK: &str = "scenarios/payloads/black-26.10.1-py3-none-any.whl";

fn black() -> PathBuf {
    root().join(BLACK)
}

/// The ops job 0 ran in a serial direct install of `packages`, as strace
/// would show them under the prefix `/sage/local`.
fn serial_ops(packages: &[&Path]) -> Vec<String> {
    let args: Vec<String> = packages.iter().map(|p| p.display().to_string()).collect();
    let scenario = Scenario::ad_hoc(&args, &[], WheelCheck::Verify).unwrap();
    let setup = Setup::new(Arc::new(scenario), &DirectInstall).unwrap();
    let mut fs = ModelFs::new();
    let trace = setup.run(&mut fs, &mut SerialScheduler, true);
    trace
        .events
        .iter()
        .map(|e| e.op.display_with("/sage/local").to_string())
        .collect()
}

#[test]
fn console_scripts_of_entry_points_land_in_bin_as_pip_writes_them() {
    let tree = reference_tree(&[&black()]);
    if let Ok(out) = std::env::var("DUMP_PATHS") {
        let paths: Vec<&str> = tree.iter().map(|(p, _)| p.as_str()).collect();
        std::fs::write(out, paths.join("\n")).unwrap();
    }
    // The real pip 23.2.1 left 118 paths (`find PREFIX -mindepth 1`): 115
    // before console scripts, and bin, bin/black, bin/blackd.
    assert_eq!(tree.iter().count(), 118);
    for (name, module) in [("black", "black"), ("blackd", "blackd")] {
        let entry = tree.get(&format!("bin/{name}")).expect("bin/NAME");
        assert_eq!(entry.mode, 0o755);
        let expected = format!(
            "#!/sage/local/bin/python3.9\n# -*- coding: utf-8 -*-\nimport re\nimport sys\n\
             from {module} import patched_main\nif __name__ == '__main__':\n    \
             sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])\n    \
             sys.exit(patched_main())\n"
        );
        // `-script.pyw|.exe` trimming and all: distlib's template, as the
        // real pip 23.2.1 wrote it here (docs/fidelity.md).
        assert_eq!(entry.size, expected.len() as u64);
        assert_eq!(
            entry.digest,
            Some(prefixrace::internals::content::Digest::of(
                expected.as_bytes()
            ))
        );
    }
}

#[test]
fn scripts_are_written_after_compiling_and_before_installer_in_pips_calls() {
    let ops = serial_ops(&[&black()]);
    let first = ops
        .iter()
        .position(|o| o.contains("/bin"))
        .expect("a script op");
    let last_pyc = ops.iter().rposition(|o| o.contains(".pyc")).unwrap();
    let installer = ops.iter().position(|o| o.contains("INSTALLER")).unwrap();
    assert!(
        last_pyc < first && first < installer,
        "{:#?}",
        &ops[first..]
    );
    // What pip 23.2.1 called for bin/black and bin/blackd into an empty
    // prefix (strace -f -e trace=file,write, docs/fidelity.md), less its
    // stat of the prefix itself and its fstat of the new descriptor.
    let scripts: Vec<&str> = ops[first..installer]
        .iter()
        .map(|o| o.split(", <").next().unwrap())
        .collect();
    assert_eq!(
        scripts,
        [
            r#"stat("/sage/local/bin/black")"#,
            r#"stat("/sage/local/bin")"#,
            r#"mkdir("/sage/local/bin", 0777)"#,
            r#"stat("/sage/local/bin/black")"#,
            r#"open("/sage/local/bin/black", O_WRONLY|O_CREAT|O_TRUNC, 0666)"#,
            "write(3",
            "close(3)",
            r#"stat("/sage/local/bin/black")"#,
            r#"chmod("/sage/local/bin/black", 0755)"#,
            r#"stat("/sage/local/bin/blackd")"#,
            r#"stat("/sage/local/bin/blackd")"#,
            r#"open("/sage/local/bin/blackd", O_WRONLY|O_CREAT|O_TRUNC, 0666)"#,
            "write(3",
            "close(3)",
            r#"stat("/sage/local/bin/blackd")"#,
            r#"chmod("/sage/local/bin/blackd", 0755)"#,
        ]
    );
}

#[test]
fn two_pips_making_bin_at_once_fail_as_distlib_does() {
    // distlib's ensure_dir does not tolerate EEXIST: the second pip to
    // mkdir bin/ dies with pip's OSError line.
    let dir = tempfile::tempdir().unwrap();
    let other = wheel(
        dir.path(),
        "other-1.0-py3-none-any.whl",
        &[
            ("other/__init__.py", b"def main(): pass\n"),
            ("other-1.0.dist-info/METADATA", b"Name: other\n"),
            (
                "other-1.0.dist-info/entry_points.txt",
                b"[gui_scripts]\nother-gui = other:main\n[console_scripts]\nother = other:main\n",
            ),
        ],
    );
    let (code, out, err) = run(&[
        "explore",
        "--package",
        other.to_str().unwrap(),
        "--package",
        BLACK,
        "--strategy",
        "direct-install",
    ]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("ERROR: Could not install packages due to an OSError: [Errno 17] File exists: '/sage/local/bin'"),
        "{out}"
    );
    // Console scripts first, then GUI scripts, each in file order.
    let ops = serial_ops(&[&other]);
    let opens: Vec<&String> = ops
        .iter()
        .filter(|o| o.starts_with("open(\"/sage/local/bin/"))
        .collect();
    assert!(opens[0].contains("bin/other\"") && opens[1].contains("bin/other-gui\""));
}

/// The real cp311 wheel shipped for these tests (scenarios/payloads/README.md).
const MARKUPSAFE: &str = "scenarios/payloads/markupsafe-3.0.4-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.manylinux_2_28_x86_64.whl";

/// The site-packages directories and bytecode tags of `tree`'s paths.
fn layouts(tree: &Tree) -> (Vec<String>, Vec<String>) {
    let mut dirs: Vec<String> = tree
        .iter()
        .filter_map(|(p, _)| p.split_once("/site-packages/").map(|(d, _)| d.to_string()))
        .collect();
    let mut tags: Vec<String> = tree
        .iter()
        .filter_map(|(p, _)| p.strip_suffix(".pyc"))
        .filter_map(|p| p.rsplit('.').next().map(str::to_string))
        .collect();
    dirs.dedup();
    tags.sort();
    tags.dedup();
    (dirs, tags)
}

#[test]
fn a_cp311_wheel_lands_under_python3_11_and_a_pure_one_keeps_the_default() {
    let tree = reference_tree(&[&root().join(MARKUPSAFE)]);
    assert_eq!(
        layouts(&tree),
        (vec!["lib/python3.11".into()], vec!["cpython-311".into()])
    );
    assert!(tree
        .get("lib/python3.11/site-packages/markupsafe/__pycache__/__init__.cpython-311.pyc")
        .is_some());
    let tree = reference_tree(&[&black()]);
    assert_eq!(
        layouts(&tree),
        (vec!["lib/python3.9".into()], vec!["cpython-39".into()])
    );
}

#[test]
fn python_overrides_the_tags_and_the_default_and_names_the_interpreter() {
    for (wheel, version) in [(MARKUPSAFE, "3.12"), (BLACK, "3.11")] {
        let args = vec![root().join(wheel).display().to_string()];
        let python = prefixrace::scenario::PythonVersion::parse(version).unwrap();
        let scenario = Scenario::ad_hoc_for(&args, &[], WheelCheck::Verify, Some(python)).unwrap();
        let setup = Setup::new(Arc::new(scenario), &DirectInstall).unwrap();
        let tree = Oracle::new(&setup).unwrap().reference().clone();
        let digits = version.replace('.', "");
        assert_eq!(
            layouts(&tree),
            (
                vec![format!("lib/python{version}")],
                vec![format!("cpython-{digits}")]
            )
        );
        if wheel == BLACK {
            let script = tree.get("bin/black").unwrap();
            let shebang = format!("#!/sage/local/bin/python{version}\n");
            assert_eq!(script.size, 247 - 46 + shebang.len() as u64);
        }
    }
}

#[test]
fn wheels_of_two_pythons_are_refused_unless_python_is_given() {
    let dir = tempfile::tempdir().unwrap();
    let cp310 = wheel(
        dir.path(),
        "tiny-1.0-cp310-cp310-linux_x86_64.whl",
        &[
            ("tiny/__init__.py", b"x = 1\n"),
            ("tiny-1.0.dist-info/METADATA", b"Name: tiny\n"),
        ],
    );
    let cp310 = cp310.to_str().unwrap();
    refused(
        &[
            "explore",
            "--package",
            MARKUPSAFE,
            "--package",
            cp310,
            "--schedules",
            "2",
        ],
        &[
            "tiny-1.0-cp310",
            "Python 3.10",
            "Python 3.11",
            "--python X.Y",
        ],
    );
    let (code, out, err) = run(&[
        "explore",
        "--package",
        MARKUPSAFE,
        "--package",
        cp310,
        "--python",
        "3.11",
        "--strategy",
        "direct-install",
        "--schedules",
        "2",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    for bad in ["3.x", "311", "4.0", ""] {
        refused(
            &["explore", "--package", BLACK, "--python", bad],
            &["--python", "like 3.11"],
        );
    }
    refused(
        &["explore", "scenarios/sage-32361.toml", "--python", "3.11"],
        &["--python applies to --package"],
    );
}

#[test]
fn the_replay_line_of_a_python_run_rebuilds_it() {
    // Staged, racing an importer on black/__pycache__ (SageMath 32361's shape).
    let (code, out, err) = run(&[
        "explore",
        "--package",
        BLACK,
        "--import",
        "black",
        "--python",
        "3.11",
        "--strategy",
        "staged-copy",
    ]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("lib/python3.11/site-packages/black"), "{out}");
    let replay = out
        .lines()
        .find(|l| l.trim_start().starts_with("prefixrace replay"))
        .unwrap_or_else(|| panic!("a replay line in {out}"));
    assert!(replay.contains(" --python 3.11"), "{replay}");
    let args: Vec<&str> = replay.split_whitespace().skip(1).collect();
    let (code, again, err) = run(&args);
    assert_eq!(code, 1, "{again}{err}");
    assert!(again.contains("lib/python3.11"), "{again}");
}

#[test]
fn record_wheel_follows_the_tags_or_python_too() {
    let (code, out, err) = run(&["record", "wheel", MARKUPSAFE, "--scenario"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(
            "site-packages = \"lib/python3.11/site-packages\"\npython-tag = \"cpython-311\"\n"
        ),
        "{out}"
    );
    let (code, out, err) = run(&["record", "wheel", BLACK, "--scenario", "--python", "3.12"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(
            "site-packages = \"lib/python3.12/site-packages\"\npython-tag = \"cpython-312\"\n"
        ),
        "{out}"
    );
    let (code, out, err) = run(&["record", "wheel", BLACK, "--scenario"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("site-packages = \"lib/python3.9/site-packages\"\n")
            && !out.contains("python-tag"),
        "{out}"
    );
    refused(
        &["record", "wheel", BLACK, "--python", "three"],
        &["--python", "like 3.11"],
    );
}

#[test]
fn a_bad_entry_point_is_one_line_naming_the_member_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    for (text, field, line_no) in [
        (&b"[console_scripts]\n../../etc/x = m:f\n"[..], "name", 2),
        (
            &b"[console_scripts]\nx = m:f\n[gui_scripts]\ny = m\n"[..],
            "entry point",
            4,
        ),
        (
            &b"[console_scripts]\nx = m:f\nz = m:f\"); import os #\n"[..],
            "entry point",
            3,
        ),
    ] {
        let w = wheel(
            dir.path(),
            "bad-1.0-py3-none-any.whl",
            &[
                ("bad/__init__.py", b"def f(): pass\n"),
                ("bad-1.0.dist-info/entry_points.txt", text),
            ],
        );
        let line = refused(
            &["explore", "--package", w.to_str().unwrap()],
            &[
                &format!("bad-1.0.dist-info/entry_points.txt:{line_no}:"),
                field,
            ],
        );
        assert!(line.contains(field), "{line}");
    }
}

#[test]
fn recorded_payloads_and_scenarios_keep_the_console_scripts() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("black.toml");
    let (code, _, err) = run(&["record", "wheel", BLACK, "-o", manifest.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&manifest).unwrap();
    assert!(
        text.contains(
            "scripts = [\"black = black:patched_main\", \"blackd = blackd:patched_main\"]\n"
        ),
        "{text}"
    );
    let from_wheel = reference_tree(&[&black()]);
    let from_manifest = reference_tree(&[&manifest]);
    for name in ["bin/black", "bin/blackd"] {
        assert_eq!(from_manifest.get(name), from_wheel.get(name), "{name}");
    }
    let scenario = dir.path().join("scenario.toml");
    let (code, _, err) = run(&[
        "record",
        "wheel",
        BLACK,
        "--scenario",
        "-o",
        scenario.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let loaded = prefixrace::scenario::load(&scenario).unwrap();
    assert_eq!(loaded.packages[0].scripts.len(), 2);
    // A bad line is one line naming the file, its line and the field.
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "name = \"b\"\nscripts = [\n  \"x/y = m:f\",\n]\n").unwrap();
    refused(
        &["explore", "--package", bad.to_str().unwrap()],
        &["bad.toml:3:", "name"],
    );
}
