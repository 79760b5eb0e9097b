//! `record strace`: real logs recorded on this machine, and synthetic ones
//! that exercise the parser's corners.

use std::io::Write;

use assert_cmd::Command;
use prefixrace::internals::job::{RecordedResult, TraceProgram};
use prefixrace::internals::op::{Errno, Op};
use prefixrace::internals::record::strace::parse_log;

fn repo(rel: &str) -> String {
    format!("{}/../{rel}", env!("CARGO_MANIFEST_DIR"))
}

fn prefixrace() -> Command {
    Command::cargo_bin("prefixrace").unwrap()
}

fn record(args: &[&str]) -> (i32, String, String) {
    let out = prefixrace().arg("record").args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn explore(file: &std::path::Path) -> (i32, String) {
    let out = prefixrace()
        .args([
            "explore",
            file.to_str().unwrap(),
            "--strategy",
            "staged-copy",
            "--jobs",
            "1",
        ])
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

const CP_TRACE: &str = "scenarios/traces/cython.stage-cp-Rp.trace.gz";

#[test]
fn the_recorded_cython_copy_races_an_importer() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cp.toml");
    let (code, _, err) = record(&[
        "strace",
        &repo(CP_TRACE),
        "--import",
        "Cython",
        "-o",
        file.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let (code, out) = explore(&file);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("cp: cannot create directory '/tmp/recdata/prefix-staged-Rp-cython/./lib/python3.9/site-packages/Cython/__pycache__': File exists"),
        "{out}"
    );
}

#[test]
fn the_recorded_cython_copy_alone_replays_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cp.toml");
    let (code, _, err) = record(&["strace", &repo(CP_TRACE), "-o", file.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let (code, out) = explore(&file);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn recording_is_byte_identical_and_infers_the_prefix() {
    let (c1, a, e1) = record(&["strace", &repo(CP_TRACE)]);
    let (c2, b, _) = record(&["strace", &repo(CP_TRACE)]);
    assert_eq!((c1, c2), (0, 0), "{e1}");
    assert_eq!(a, b);
    assert!(
        a.contains("prefix = \"/tmp/recdata/prefix-staged-Rp-cython\""),
        "{a}"
    );
    assert!(a.contains("program = \"cp\""));
    // cp -Rp restores directory modes through an ACL; they come back as chmods.
    assert!(
        a.contains("'chmod(\"lib/python3.9/site-packages/Cython/__pycache__\", 0755) = 0'"),
        "{a}"
    );
}

/// A log with two pids, -tt times, split calls, `[pid N]` prefixes and escapes.
const SYNTHETIC: &str = r#"300 12:00:00.000001 execve("/usr/bin/python3", ["python3", "-m", "pip", "install", "--prefix", "/p", "x.whl"], 0x7ffd /* 3 vars */) = 0
300 12:00:00.000002 mkdir("/p/lib", 0777) = 0
[pid   301] 12:00:00.000003 execve("/usr/bin/touchy", ["touchy"], 0x1 /* 1 var */) = 0
300 12:00:00.000004 openat(AT_FDCWD, "/p/lib/a\"b\\c\303\251.py", O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, 0666 <unfinished ...>
301 12:00:00.000005 mkdir("/p/lib/t", 0755 <unfinished ...>
300 12:00:00.000006 <... openat resumed>) = 4
301 12:00:00.000007 <... mkdir resumed>) = -1 EEXIST (File exists)
300 12:00:00.000008 write(4, "abc"..., 300) = 300
300 12:00:00.000009 close(4) = 0
301 12:00:00.000010 openat(AT_FDCWD, "/etc/passwd", O_RDONLY) = 3
301 12:00:00.000011 --- SIGCHLD {si_signo=SIGCHLD} ---
301 12:00:00.000012 +++ exited with 3 +++
300 12:00:00.000013 +++ exited with 0 +++
"#;

#[test]
fn synthetic_log_maps_pids_to_stable_names_and_decodes_escapes() {
    let log = parse_log("syn.log", SYNTHETIC, None, None).unwrap();
    assert_eq!(log.prefix, "/p");
    let names: Vec<&str> = log.processes.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["pip-1", "touchy-2"]);
    let pip = &log.processes[0].spec;
    assert_eq!(pip.program, TraceProgram::Pip);
    assert_eq!(pip.ops.len(), 4, "{:?}", pip.ops);
    assert_eq!(&**pip.ops[1].op.path(), "lib/a\"b\\cé.py");
    assert!(matches!(pip.ops[2].op, Op::Write { .. }));
    let touchy = &log.processes[1].spec;
    assert_eq!(touchy.exit, 3);
    assert_eq!(
        touchy.ops.len(),
        1,
        "/etc is outside the prefix: {:?}",
        touchy.ops
    );
    assert_eq!(touchy.ops[0].result, RecordedResult::Err(Errno::EEXIST));
    // The same log without pids and times (strace without -f/-tt) parses too.
    let bare: String = "mkdir(\"/q/d\", 0700) = 0\nopen(\"/q/d/f\", O_WRONLY|O_CREAT|O_EXCL, 0600) = 3\nclose(3) = 0\n".into();
    let log = parse_log("bare.log", &bare, Some("/q"), None).unwrap();
    assert_eq!(log.processes.len(), 1);
    assert_eq!(log.processes[0].name, "unknown-1");
    assert_eq!(log.processes[0].spec.ops.len(), 3);
}

#[test]
fn gzip_and_plain_logs_record_the_same_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("syn.log");
    std::fs::write(&plain, SYNTHETIC).unwrap();
    let gz = dir.path().join("syn.log.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(SYNTHETIC.as_bytes()).unwrap();
    std::fs::write(&gz, enc.finish().unwrap()).unwrap();
    let (c1, a, e1) = record(&["strace", plain.to_str().unwrap(), "--name", "syn"]);
    let (c2, b, e2) = record(&["strace", gz.to_str().unwrap(), "--name", "syn"]);
    assert_eq!((c1, c2), (0, 0), "{e1}{e2}");
    assert_eq!(
        a.replace("syn.log.gz", "syn.log"),
        b.replace("syn.log.gz", "syn.log")
    );
}

/// Two processes recorded one after the other: the first made a directory,
/// the second found it (EEXIST). The serial order replays as recorded; the
/// other order changes both results. Recorded as pip, the replay reacts like
/// pip (it ignores EEXIST on mkdir); as an unknown tool it is a divergence.
fn two_makers(program: &str) -> String {
    let mut s = String::from("name = \"two\"\nprefix = \"/p\"\n");
    for (i, result) in [(1, "0"), (2, "-1 EEXIST")] {
        s.push_str(&format!(
            "\n[[activity]]\nname = \"{program}-{i}\"\nkind = \"trace\"\nprogram = \"{program}\"\nops = ['mkdir(\"shared\", 0777) = {result}', 'open(\"shared/f{i}\", O_WRONLY|O_CREAT|O_TRUNC, 0666) = 3', 'write(3, 10) = 10', 'close(3) = 0']\n"
        ));
    }
    s
}

#[test]
fn known_tools_react_and_unknown_tools_diverge() {
    let dir = tempfile::tempdir().unwrap();
    let pip = dir.path().join("pip.toml");
    std::fs::write(&pip, two_makers("pip")).unwrap();
    let (code, out) = explore(&pip);
    assert_eq!(code, 0, "{out}");
    let other = dir.path().join("other.toml");
    std::fs::write(&other, two_makers("touchy")).unwrap();
    let (code, out) = explore(&other);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(
            "divergence at mkdir(\"/p/shared\", 0777): recorded 0, got EEXIST (File exists)"
        ) || out.contains(
            "divergence at mkdir(\"/p/shared\", 0777): recorded EEXIST (File exists), got 0"
        ),
        "{out}"
    );
}

#[test]
fn malformed_logs_exit_2_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "garbage.log",
            "300 mkdir(\"/p/a\", 0700) = 0\nthis is not strace\n",
            ":2: strace: ",
        ),
        (
            "unbalanced.log",
            "300 mkdir(\"/p/a\", 0700 = 0\n",
            ":1: strace: ",
        ),
        (
            "orphan.log",
            "300 <... mkdir resumed>) = 0\n",
            ":1: strace: ",
        ),
        (
            "string.log",
            "300 mkdir(\"/p/a, 0700) = 0\n",
            ":1: strace: ",
        ),
        (
            "errno.log",
            "300 mkdir(\"/p/a\", 0700) = -1 (No)\n",
            ":1: strace: ",
        ),
    ];
    for (name, text, expect) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let (code, _, err) = record(&["strace", path.to_str().unwrap(), "--prefix", "/p"]);
        assert_eq!(code, 2, "{name}: {err}");
        assert_eq!(err.lines().count(), 1, "{name}: {err}");
        assert!(
            err.contains(&format!("{}{expect}", path.display())),
            "{name}: {err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
    let gz = dir.path().join("broken.gz");
    std::fs::write(&gz, [0x1f, 0x8b, 8, 0, 0, 0]).unwrap();
    let (code, _, err) = record(&["strace", gz.to_str().unwrap(), "--prefix", "/p"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("broken.gz") && err.lines().count() == 1,
        "{err}"
    );
}

const PIP_TRACE: &str = "scenarios/traces/cython.direct.trace.gz";

/// The fix of ticket 32361, from real recordings: pip installing straight into
/// the prefix survives a concurrent importer because pip ignores EEXIST on
/// `__pycache__`. The same ops judged as an unknown tool diverge there, so the
/// pass comes from pip's rules, not from the importer never interleaving.
#[test]
fn the_recorded_direct_pip_install_survives_an_importer() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pip.toml");
    let (code, _, err) = record(&[
        "strace",
        &repo(PIP_TRACE),
        "--import",
        "Cython",
        "-o",
        file.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("prefix = \"/tmp/recdata/prefix-direct-cython\""));
    assert!(text.contains("program = \"pip\""));
    let explore_n = |f: &std::path::Path| {
        let out = prefixrace()
            .args([
                "explore",
                f.to_str().unwrap(),
                "--strategy",
                "direct-install",
            ])
            .args(["--jobs", "1", "--schedules", "100"])
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, out) = explore_n(&file);
    assert_eq!(code, 0, "{out}");
    let other = dir.path().join("other.toml");
    std::fs::write(
        &other,
        text.replace("program = \"pip\"", "program = \"installer\""),
    )
    .unwrap();
    let (code, out) = explore_n(&other);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("Cython/__pycache__\", 0777): recorded 0, got EEXIST (File exists)"),
        "{out}"
    );
}

#[test]
fn relative_paths_resolve_against_the_start_directory_and_children_inherit_it() {
    let log = r#"10 execve("/bin/cp", ["cp", "-Rp", "stage/.", "prefix"], 0x1 /* 1 var */) = 0
10 clone(child_stack=NULL, flags=CLONE_CHILD_SETTID|SIGCHLD) = 11
11 mkdirat(AT_FDCWD, "prefix/d", 0700) = 0
10 mkdir("prefix/e", 0700) = 0
10 chdir("/elsewhere") = 0
10 mkdir("prefix/f", 0700) = 0
"#;
    let parsed = parse_log("rel.log", log, None, Some("/work")).unwrap();
    assert_eq!(parsed.prefix, "/work/prefix");
    let names: Vec<&str> = parsed.processes.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["cp-1", "cp-2"], "the forked child is still cp");
    let paths: Vec<&str> = parsed.processes[0]
        .spec
        .ops
        .iter()
        .map(|r| &**r.op.path())
        .collect();
    assert_eq!(
        paths,
        ["e"],
        "after chdir the relative mkdir is outside the prefix"
    );
    assert_eq!(&**parsed.processes[1].spec.ops[0].op.path(), "d");
    // Without a start directory the relative destination cannot be placed.
    let err = parse_log("rel.log", log, None, None)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("rel.log: prefix: cannot infer the prefix"),
        "{err}"
    );
}

#[test]
fn no_truncation_of_a_valid_log_panics() {
    for line in SYNTHETIC.lines() {
        for (cut, _) in line.char_indices() {
            let text = format!("{}\n", &line[..cut]);
            let _ = parse_log("cut.log", &text, Some("/p"), None);
        }
    }
}

#[test]
fn a_log_claiming_a_huge_write_into_the_prefix_is_refused() {
    let log = "1 openat(AT_FDCWD, \"/p/f\", O_WRONLY|O_CREAT|O_TRUNC, 0644) = 3\n1 write(3, \"x\"..., 4294967296) = 4294967296\n1 write(1, \"x\"..., 4294967296) = 4294967296\n";
    let err = parse_log("big.log", log, Some("/p"), None)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("big.log:2: write: a write of 4294967296 bytes exceeds"),
        "{err}"
    );
    // The same write to a descriptor outside the prefix is not recorded at all.
    let outside = "1 write(1, \"x\"..., 4294967296) = 4294967296\n1 mkdir(\"/p/d\", 0755) = 0\n";
    assert_eq!(
        parse_log("ok.log", outside, Some("/p"), None)
            .unwrap()
            .processes
            .len(),
        1
    );
}

#[test]
fn malformed_trace_activities_exit_2_naming_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("name = \"s\"\n[[activity]]\nname = \"a\"\nkind = \"trace\"\nops = ['mkdir(\"d\", 0700) = 0']\n", ":4: program: "),
        ("name = \"s\"\n[[activity]]\nname = \"a\"\nkind = \"trace\"\nprogram = \"cp\"\nops = [\n 'mkdir(\"d\", 0700) = 0',\n 'close(7) = 0',\n]\n", ":8: ops: descriptor 7"),
        ("name = \"s\"\n[[activity]]\nname = \"a\"\nkind = \"trace\"\nprogram = \"cp\"\nops = ['mkdir(\"/etc/x\", 0700) = 0']\n", ":6: ops: "),
        ("name = \"s\"\n[[activity]]\nname = \"a\"\nkind = \"import\"\nmodules = [\"m\"]\nops = []\nprogram = \"cp\"\n", ":4: kind: "),
    ];
    for (i, (text, expect)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("bad{i}.toml"));
        std::fs::write(&path, text).unwrap();
        let out = prefixrace()
            .args(["explore", path.to_str().unwrap()])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains(&format!("{}{expect}", path.display())),
            "case {i}: {err}"
        );
    }
}

/// uv's calls in its hardlink mode read as the model's ops: `linkat` as
/// a link (a source outside the prefix is left out with the call),
/// `flock(LOCK_EX…)` on an open descriptor as an flock (a refused
/// `LOCK_NB` try and `LOCK_UN` are not ops: the blocking retry stands for
/// the wait, the close releases it), `renameat2(RENAME_EXCHANGE)` as an
/// exchange, another `renameat2` as a rename.
#[test]
fn links_flocks_and_exchanges_are_read_from_a_log() {
    let log = r#"7 execve("/usr/bin/uv", ["uv"], 0x1 /* 1 var */) = 0
7 openat(AT_FDCWD, "/p/.lock", O_RDWR|O_CREAT|O_CLOEXEC, 0644) = 5
7 flock(5, LOCK_EX|LOCK_NB) = -1 EAGAIN (Resource temporarily unavailable)
7 flock(5, LOCK_EX) = 0
7 linkat(AT_FDCWD, "/p/cache/a.py", AT_FDCWD, "/p/lib/a.py", 0) = 0
7 link("/p/lib/a.py", "/p/lib/b.py") = -1 EEXIST (File exists)
7 linkat(AT_FDCWD, "/elsewhere/a.py", AT_FDCWD, "/p/lib/c.py", 0) = 0
7 renameat2(AT_FDCWD, "/p/new", AT_FDCWD, "/p/lib", RENAME_EXCHANGE) = 0
7 renameat2(AT_FDCWD, "/p/.tmp1", AT_FDCWD, "/p/.lock", RENAME_NOREPLACE) = 0
7 flock(5, LOCK_UN) = 0
7 close(5) = 0
"#;
    let parsed = parse_log("uv.log", log, Some("/p"), None).unwrap();
    let shown: Vec<String> = parsed.processes[0]
        .spec
        .ops
        .iter()
        .map(|r| format!("{} {:?}", r.op, r.result))
        .collect();
    assert_eq!(
        shown,
        [
            "open(\".lock\", O_WRONLY|O_CREAT, 0644) Ok(5)",
            "flock(5, LOCK_EX|LOCK_NB) Ok(0)",
            "link(\"cache/a.py\", \"lib/a.py\") Ok(0)",
            "link(\"lib/a.py\", \"lib/b.py\") Err(EEXIST)",
            "renameat2(AT_FDCWD, \"new\", AT_FDCWD, \"lib\", RENAME_EXCHANGE) Ok(0)",
            "rename(\".tmp1\", \".lock\") Ok(0)",
            "close(5) Ok(0)",
        ]
    );
}
