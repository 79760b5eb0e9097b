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
