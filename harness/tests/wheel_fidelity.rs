//! Real wheels installed as pip installs them (issue 17): console scripts
//! from `entry_points.txt`, the python version a wheel's tags name (or
//! `--python`), and bytecode a wheel ships, which is a package file and
//! never "stale".

mod cli_support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use cli_support::*;
use prefixrace::internals::{Oracle, Tree};
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
