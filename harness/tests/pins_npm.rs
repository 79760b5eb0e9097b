//! npm's reify of a changed package, as `scenarios/races/npm-4383-*.toml`
//! models it on the kit, pinned against the real `npm install` on this
//! machine (npm 11.19.1 under Node 20 when recorded): the same package
//! changed from 8.11.2 to 8.11.3 makes the same changing calls on
//! node_modules and the lockfiles, and the retirement name the scenarios
//! use is the one npm's own `retire-path.js` gives for their prefix.
//!
//! npm runs its file system calls on libuv's thread pool, so the calls are
//! compared as a multiset, and in order where npm's order is its own: the
//! installed package moved aside first, the retired copy removed after the
//! new one is written, the lockfiles last.

mod cli_support;

use cli_support::{root, whole_strace_lines};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use prefixrace::internals::schedule::SerialScheduler;
use prefixrace::internals::{Fs, ModelFs, Op};
use prefixrace::strategy::DirectInstall;
use prefixrace::Setup;

const SCENARIO: &str = "scenarios/races/npm-4383-two-reifies.toml";

/// Whether `rel` is one of the paths npm's reify of the project changes.
fn in_project(rel: &str) -> bool {
    rel.starts_with("node_modules") || rel == "package-lock.json"
}

/// The retirement name with its hash replaced, so that two prefixes compare.
fn unhash(path: &str) -> String {
    match path.find("/.acorn-") {
        Some(i) => {
            let rest = &path[i + "/.acorn-".len()..];
            let tail = rest.find('/').map_or("", |j| &rest[j..]);
            format!("{}/.acorn-<hash>{tail}", &path[..i])
        }
        None => path.to_string(),
    }
}

/// The result as strace ends its line: `0` or the errno's name. strace pads
/// a short call (a resumed half, `<... rmdir resumed>)`) with spaces up to
/// the `=`, so the result is what follows the last `=` after a `)`.
fn real_result(line: &str) -> &str {
    let at = line
        .rmatch_indices("= ")
        .map(|(i, _)| i)
        .find(|&i| line[..i].trim_end().ends_with(')'));
    let after = at.map_or("", |i| &line[i + 2..]);
    match after.split_whitespace().collect::<Vec<_>>().as_slice() {
        ["-1", errno, ..] => errno,
        _ => "0",
    }
}

/// The changing calls `strace` logged in the project at `app`, as
/// `call path = result`, each call whole (npm's calls on libuv's threads
/// interleave in the log).
fn real_calls(log: &str, app: &str) -> Vec<String> {
    let mut calls = Vec::new();
    for line in whole_strace_lines(log) {
        let line = line.as_str();
        let quoted: Vec<&str> = line.split('"').skip(1).step_by(2).collect();
        let Some(rel) = quoted.first().and_then(|q| q.strip_prefix(app)) else {
            continue;
        };
        let rel = rel.trim_start_matches('/');
        if !in_project(rel) {
            continue;
        }
        let call = if line.contains("mkdir(") {
            "mkdir"
        } else if line.contains("openat(") && line.contains("O_TRUNC") {
            "open-trunc"
        } else if line.contains("rename(") || line.contains("renameat") {
            let to = quoted[1].strip_prefix(app).unwrap_or(quoted[1]);
            let to = unhash(to.trim_start_matches('/'));
            calls.push(format!(
                "rename {} -> {to} = {}",
                unhash(rel),
                real_result(line)
            ));
            continue;
        } else if line.contains("unlink(") {
            "unlink"
        } else if line.contains("rmdir(") {
            "rmdir"
        } else {
            continue;
        };
        calls.push(format!("{call} {} = {}", unhash(rel), real_result(line)));
    }
    calls
}

/// The calls of the scenario's first npm alone, serially on the model,
/// after the earlier install it declares, as [`real_calls`] shows them.
fn model_calls() -> Vec<String> {
    let mut scenario = prefixrace::scenario::load(&root().join(SCENARIO)).unwrap();
    scenario.activities.truncate(1);
    let setup = Setup::new(Arc::new(scenario), &DirectInstall).unwrap();
    let mut fs = ModelFs::new();
    let trace = setup.run(&mut fs as &mut dyn Fs, &mut SerialScheduler, true);
    assert!(trace.outcomes.iter().all(|o| !o.failed()));
    trace
        .events
        .iter()
        .filter(|e| in_project(e.op.path()))
        .filter_map(|e| {
            let result = match &e.result {
                Ok(_) => "0".to_string(),
                Err(errno) => errno.name().to_string(),
            };
            let call = match &e.op {
                Op::Mkdir { .. } => "mkdir",
                Op::Open { flags, .. } if flags.trunc => "open-trunc",
                Op::Rename { from, to } => {
                    return Some(format!(
                        "rename {} -> {} = {result}",
                        unhash(from),
                        unhash(to)
                    ))
                }
                Op::Unlink { .. } => "unlink",
                Op::Rmdir { .. } => "rmdir",
                _ => return None,
            };
            Some(format!("{call} {} = {result}", unhash(e.op.path())))
        })
        .collect()
}

/// npm's flags for every run here: nothing fetched, nothing run.
const NPM_FLAGS: [&str; 4] = ["--offline", "--no-audit", "--no-fund", "--ignore-scripts"];

/// npm's environment for every run here: its cache in `work`.
fn npm_env(work: &Path) -> [(&'static str, PathBuf); 2] {
    [
        ("npm_config_cache", work.join("cache")),
        ("npm_config_update_notifier", PathBuf::from("false")),
    ]
}

/// `npm ARGS` in `dir`.
fn npm_command(dir: &Path, work: &Path, args: &[&str]) -> Command {
    let mut command = Command::new("npm");
    command
        .args(args)
        .args(NPM_FLAGS)
        .current_dir(dir)
        .envs(npm_env(work));
    command
}

fn npm(dir: &Path, work: &Path, args: &[&str]) {
    let out = npm_command(dir, work, args).output().unwrap();
    assert!(out.status.success(), "npm {args:?}: {out:?}");
}

/// A tarball of acorn `version` (package.json and dist/acorn.js) in `work`.
fn pack(work: &Path, version: &str) -> String {
    let pkg = work.join(format!("acorn-src-{version}"));
    std::fs::create_dir_all(pkg.join("dist")).unwrap();
    let manifest = format!("{{\"name\":\"acorn\",\"version\":\"{version}\"}}\n");
    std::fs::write(pkg.join("package.json"), manifest).unwrap();
    std::fs::write(pkg.join("dist/acorn.js"), format!("// acorn {version}\n")).unwrap();
    npm(
        &pkg,
        work,
        &["pack", "--silent", "--pack-destination", ".."],
    );
    format!("acorn-{version}.tgz")
}

/// A project depending on `tarball` (beside it, in `work`).
fn depend(app: &Path, tarball: &str) {
    let manifest = format!(
        "{{\"name\":\"app\",\"version\":\"1.0.0\",\"dependencies\":{{\"acorn\":\"file:../{tarball}\"}}}}\n"
    );
    std::fs::write(app.join("package.json"), manifest).unwrap();
}

/// A project in `work` with acorn 8.11.2 installed by npm and 8.11.3
/// declared: the next `npm install` changes it.
fn project_to_change(work: &Path) -> PathBuf {
    let old = pack(work, "8.11.2");
    let new = pack(work, "8.11.3");
    let app = work.join("app");
    std::fs::create_dir(&app).unwrap();
    depend(&app, &old);
    npm(&app, work, &["install"]);
    depend(&app, &new);
    app
}

#[test]
#[cfg_attr(prefixrace_no_strace, ignore = "strace cannot trace here")]
#[cfg_attr(prefixrace_no_npm, ignore = "npm does not run here")]
fn the_model_makes_the_calls_real_npm_makes() {
    let work = tempfile::tempdir().unwrap();
    let app = project_to_change(work.path());
    let log = work.path().join("strace.log");
    let status = Command::new("strace")
        .args(["-f", "-qq", "-e"])
        .arg("trace=mkdir,mkdirat,openat,rename,renameat,renameat2,unlink,unlinkat,rmdir")
        .arg("-o")
        .arg(&log)
        .args(["npm", "install"])
        .args(NPM_FLAGS)
        .current_dir(&app)
        .envs(npm_env(work.path()))
        .status()
        .unwrap();
    assert!(status.success());
    let real = real_calls(
        &std::fs::read_to_string(&log).unwrap(),
        &app.display().to_string(),
    );
    let model = model_calls();
    assert!(real.len() >= 12, "{real:#?}");

    let sorted = |calls: &[String]| {
        let mut c = calls.to_vec();
        c.sort();
        c
    };
    assert_eq!(
        sorted(&real),
        sorted(&model),
        "\nreal npm: {real:#?}\nmodel: {model:#?}"
    );
    // npm's own order: moved aside first, the new files written before the
    // retired copy goes, the lockfiles last.
    for calls in [&real, &model] {
        let at = |prefix: &str| calls.iter().position(|c| c.starts_with(prefix)).unwrap();
        let last = |prefix: &str| calls.iter().rposition(|c| c.starts_with(prefix)).unwrap();
        assert!(at("rename node_modules/acorn ->") < at("mkdir node_modules/acorn ="));
        assert!(last("open-trunc node_modules/acorn/") < at("unlink node_modules/.acorn-<hash>"));
        assert!(last("rmdir node_modules/.acorn-<hash>") < at("open-trunc package-lock.json"));
    }
}

/// The retirement name in the scenarios is npm's own for their prefix:
/// arborist's `retire-path.js`, run by node, gives the same.
#[test]
#[cfg_attr(prefixrace_no_npm, ignore = "npm does not run here")]
fn the_scenarios_retire_acorn_to_the_name_npm_gives() {
    let global = Command::new("npm").args(["root", "-g"]).output().unwrap();
    let global = String::from_utf8(global.stdout).unwrap();
    let retire =
        Path::new(global.trim()).join("npm/node_modules/@npmcli/arborist/lib/retire-path.js");
    assert!(retire.exists(), "{}", retire.display());
    let script = format!(
        "process.stdout.write(require({:?})('/home/u/app/node_modules/acorn'))",
        retire.display().to_string()
    );
    let out = Command::new("node").args(["-e", &script]).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let npm_name = String::from_utf8(out.stdout).unwrap();
    for file in ["npm-4383-two-reifies.toml", "npm-4383-serialized.toml"] {
        let text = std::fs::read_to_string(root().join("scenarios/races").join(file)).unwrap();
        let scenario =
            prefixrace::scenario::load(&root().join("scenarios/races").join(file)).unwrap();
        assert_eq!(scenario.prefix, "/home/u/app");
        let name = npm_name.strip_prefix("/home/u/app/").unwrap();
        assert!(
            text.contains(&format!("to = \"{name}\"")),
            "{file} does not retire acorn to npm's {name}"
        );
    }
}

/// npm's report of a failed retirement move ends with the line the kit's
/// `npm` voice prints: a regular file standing at the retirement name
/// makes the real npm's `rename` fail with ENOTDIR.
#[test]
#[cfg_attr(prefixrace_no_npm, ignore = "npm does not run here")]
fn npm_words_a_failed_move_as_the_kit_does() {
    use prefixrace::internals::Errno;
    use prefixrace::kit::{Failure, Voice};

    let work = tempfile::tempdir().unwrap();
    let app = project_to_change(work.path());
    let installed = app.join("node_modules/acorn").display().to_string();
    let script = format!(
        "process.stdout.write(require(require('path').join({:?}, 'npm/node_modules/@npmcli/arborist/lib/retire-path.js'))({installed:?}))",
        String::from_utf8(Command::new("npm").args(["root", "-g"]).output().unwrap().stdout)
            .unwrap()
            .trim()
    );
    let out = Command::new("node").args(["-e", &script]).output().unwrap();
    let retired = String::from_utf8(out.stdout).unwrap();
    std::fs::write(&retired, b"in the way\n").unwrap();
    let out = npm_command(&app, work.path(), &["install"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    let app_dir = app.display().to_string();
    let rel = |p: &str| -> Arc<str> { p.strip_prefix(&format!("{app_dir}/")).unwrap().into() };
    let failure = Failure::between("rename", Errno::ENOTDIR, &rel(&installed), &rel(&retired));
    let kit = Voice::of("npm").say(&failure, &app_dir, None);
    assert!(
        stderr.lines().any(|l| l == kit),
        "the kit says {kit:?}; npm printed:\n{stderr}"
    );
}

/// A call another thread's line split in two keeps its own result, though
/// strace pads the resumed half before its `=`: CI runs read such an
/// `rmdir` as a success.
#[test]
fn a_call_split_by_another_thread_keeps_its_result() {
    let log = "\
7 rmdir(\"/a/node_modules/.acorn-1/dist\" <unfinished ...>
8 unlink(\"/a/node_modules/.acorn-1/package.json\") = 0
7 <... rmdir resumed>)                   = -1 ENOTEMPTY (Directory not empty)
";
    assert_eq!(
        real_calls(log, "/a"),
        [
            "unlink node_modules/.acorn-<hash>/package.json = 0",
            "rmdir node_modules/.acorn-<hash>/dist = ENOTEMPTY",
        ]
    );
}
