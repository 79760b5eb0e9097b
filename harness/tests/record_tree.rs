//! `record tree`: a staging tree as it is on disk, in cp's inode order,
//! without following symlinks out of it.

mod cli_support;

use cli_support::*;

use std::os::unix::fs::MetadataExt;

fn make_stage(root: &std::path::Path) {
    let sp = root.join("lib/python3.9/site-packages");
    std::fs::create_dir_all(sp.join("zpkg")).unwrap();
    std::fs::write(sp.join("zpkg/__init__.py"), "A = 1\n").unwrap();
    std::fs::write(sp.join("zpkg/b.py"), "B = 2\n").unwrap();
    std::fs::create_dir(sp.join("zpkg/__pycache__")).unwrap();
    std::fs::write(sp.join("zpkg/__pycache__/__init__.cpython-39.pyc"), b"pyc").unwrap();
    std::os::unix::fs::symlink("/etc", sp.join("zpkg/outside")).unwrap();
    std::fs::create_dir_all(root.join("bin")).unwrap();
    std::fs::write(root.join("bin/tool"), "#!/bin/sh\n").unwrap();
    let mut perm = std::fs::metadata(root.join("bin/tool"))
        .unwrap()
        .permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perm, 0o755);
    std::fs::set_permissions(root.join("bin/tool"), perm).unwrap();
}

#[test]
fn tree_payload_lists_entries_in_inode_order_and_keeps_symlinks() {
    let dir = tempfile::tempdir().unwrap();
    let stage = dir.path().join("stage");
    make_stage(&stage);
    let (code, a, err) = run(&["record", "tree", stage.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let (_, b, _) = run(&["record", "tree", stage.to_str().unwrap()]);
    assert_eq!(a, b);
    assert!(
        a.contains("path = \"zpkg/outside\"\nkind = \"symlink\"\ntarget = \"/etc\""),
        "{a}"
    );
    assert!(!a.contains("passwd"), "the symlink was followed: {a}");
    assert!(
        a.contains("path = \"../../../bin/tool\"\ntext = \"#!/bin/sh\\n\"\nmode = 0o755"),
        "{a}"
    );
    // Within zpkg/ the entries come in ascending inode order.
    let pkg = stage.join("lib/python3.9/site-packages/zpkg");
    let mut expected: Vec<(u64, String)> = std::fs::read_dir(&pkg)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                std::fs::symlink_metadata(e.path()).unwrap().ino(),
                e.file_name().into_string().unwrap(),
            )
        })
        .collect();
    expected.sort();
    let positions: Vec<usize> = expected
        .iter()
        .map(|(_, n)| a.find(&format!("path = \"zpkg/{n}\"")).unwrap())
        .collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "{expected:?}\n{a}"
    );
    // The payload loads with the existing loader.
    let toml = dir.path().join("stage.toml");
    std::fs::write(&toml, &a).unwrap();
    let (code, out, err) = run(&[
        "explore",
        "--package",
        toml.to_str().unwrap(),
        "--strategy",
        "direct-install",
        "--schedules",
        "20",
    ]);
    // One package and nothing beside it: no ordering can matter.
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("prefixrace explore: PASS"), "{out}");
}

#[test]
fn a_tree_copied_in_recorded_order_races_an_importer() {
    let dir = tempfile::tempdir().unwrap();
    let stage = dir.path().join("stage");
    make_stage(&stage);
    let out = dir.path().join("copy.toml");
    let (code, _, err) = run(&[
        "record",
        "tree",
        stage.to_str().unwrap(),
        "--copy-into",
        "/sage/local",
        "--import",
        "zpkg",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let scenario = std::fs::read_to_string(&out).unwrap();
    // The copy follows the staged inode order, whatever this disk allocated.
    let pkg = stage.join("lib/python3.9/site-packages/zpkg");
    let ino = |p: &str| std::fs::symlink_metadata(pkg.join(p)).unwrap().ino();
    let at = |needle: &str| {
        scenario
            .find(needle)
            .unwrap_or_else(|| panic!("{needle} in {scenario}"))
    };
    let mkdir_at = at("mkdir(\"lib/python3.9/site-packages/zpkg/__pycache__\"");
    let init_at = at("open(\"lib/python3.9/site-packages/zpkg/__init__.py\"");
    let pycache_last = ino("__pycache__") > ino("__init__.py");
    assert_eq!(mkdir_at > init_at, pycache_last, "{scenario}");
    if pycache_last {
        let (code, text, err) = run(&[
            "explore",
            out.to_str().unwrap(),
            "--jobs",
            "1",
            "--strategy",
            "staged-copy",
        ]);
        assert_eq!(code, 1, "{text}{err}");
        assert!(
            text.contains("cp: cannot create directory '/sage/local/./lib/python3.9/site-packages/zpkg/__pycache__': File exists"),
            "{text}"
        );
    } else {
        // __pycache__ is copied before __init__.py exists, so the importer
        // can never create it first: dpor proves no interleaving fails.
        let (code, text, err) = run(&[
            "explore",
            out.to_str().unwrap(),
            "--strategy",
            "staged-copy",
            "--scheduler",
            "dpor",
        ]);
        assert_eq!(code, 0, "{text}{err}");
        assert!(text.contains("coverage: complete"), "{text}");
    }
}

#[test]
fn a_missing_or_non_directory_tree_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("f");
    std::fs::write(&file, "x").unwrap();
    let link = dir.path().join("l");
    std::os::unix::fs::symlink(dir.path(), &link).unwrap();
    for p in [file.clone(), link, dir.path().join("missing")] {
        let (code, _, err) = run(&["record", "tree", p.to_str().unwrap()]);
        assert_eq!(code, 2, "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(p.to_str().unwrap()), "{err}");
    }
}
