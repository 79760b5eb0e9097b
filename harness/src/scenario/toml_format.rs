//! The scenario TOML format.
//!
//! ```toml
//! name = "sage-32361"
//! description = "..."
//! prefix = "/sage/local"                      # how the tools print the prefix
//! site-packages = "lib/python3.9/site-packages"
//! python-tag = "cpython-39"
//! volatile = ["**/direct_url.json"]           # paths whose final state may vary
//!
//! [[package]]
//! name = "Cython"
//! record = "payloads/Cython-0.29.21.RECORD"   # or wheel = "...", payload = "...", or [[package.file]]
//! after = []                                  # make's dependency edges
//! scripts = ["cython = Cython.Compiler.Main:setuptools_main"]  # bin/ scripts pip writes (a wheel's entry_points.txt)
//!
//! [[initial]]                                # already in the prefix before the jobs start
//! name = "Cython"                             # same fields as [[package]]; installed serially
//! record = "payloads/Cython-0.29.21.RECORD"   # by pip onto every fresh filesystem
//! compile = false                             # e.g. an old install without __pycache__
//!
//! [[activity]]
//! name = "import-cython"
//! kind = "import"
//! modules = ["Cython", "Cython.Shadow"]
//!
//! [[activity]]                                # ran before the jobs start (an earlier install):
//! name = "npm-earlier"                        # laid down serially on every fresh filesystem,
//! kind = "script"                             # after the [[initial]] packages; no `after`
//! initial = true
//! program = "npm"
//! steps = [{ do = "write-tree", dir = "node_modules/acorn", files = ["package.json"] }]
//!
//! [[activity]]                                # a recorded process (`prefixrace record strace`)
//! name = "cp-1"
//! kind = "trace"
//! program = "cp"                              # cp, pip, python: react like that tool; else diverge
//! argv = ["cp", "-Rp", "/stage/.", "/sage/local/"]
//! exit = 0
//! ops = ['mkdir("lib", 0700) = 0', 'open("lib/x", O_WRONLY|O_CREAT|O_EXCL, 0600) = 4']
//!
//! [[strategy]]                                # optional: see strategy::DeclaredStrategy
//! name = "my-merge"
//! steps = ["stage", "compile", { step = "copy", on-exist = "merge" }]
//!
//! [recovery]                                  # optional: the rerun after a crash (--faults crash)
//! rerun = "failed"                            # or "all"; see recovery.rs
//! strategy = "pip"                            # rerun the installs under this strategy
//!
//! [expect]                                    # optional: what `prefixrace corpus` should find
//! verdict = "fail"                            # see expectation.rs for every key
//! strategy = "staged-copy"
//! ```
//!
//! Unknown fields are rejected; every error names the file, line and field.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::budget::ScenarioBudget;
use super::expectation::RawExpectation;
use super::line_index::LineIndex;
use super::payload::{convert_files, RawFile};
use super::recovery::RawRecovery;
use super::{
    validate_module_name, Activity, Glob, Origin, Package, Scenario, DEFAULT_PREFIX,
    DEFAULT_PYTHON_TAG, DEFAULT_SITE_PACKAGES,
};
use crate::error::{Error, Result};
use crate::fs::normalize_relative;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawScenario {
    name: Spanned<String>,
    #[serde(default)]
    description: String,
    #[serde(default)]
    prefix: Option<Spanned<String>>,
    #[serde(default)]
    site_packages: Option<Spanned<String>>,
    #[serde(default)]
    python_tag: Option<Spanned<String>>,
    #[serde(default)]
    volatile: Vec<Spanned<String>>,
    #[serde(default, rename = "package")]
    packages: Vec<RawPackage>,
    #[serde(default, rename = "initial")]
    initial: Vec<RawPackage>,
    #[serde(default, rename = "activity")]
    activities: Vec<RawActivity>,
    #[serde(default, rename = "strategy")]
    strategies: Vec<RawStrategy>,
    #[serde(default)]
    expect: Option<RawExpectation>,
    #[serde(default)]
    recovery: Option<RawRecovery>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawStrategy {
    name: Spanned<String>,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    steps: Vec<Spanned<toml::Value>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawPackage {
    name: Spanned<String>,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    record: Option<Spanned<String>>,
    #[serde(default)]
    wheel: Option<Spanned<String>>,
    #[serde(default)]
    payload: Option<Spanned<String>>,
    #[serde(default, rename = "file")]
    files: Vec<RawFile>,
    #[serde(default)]
    after: Vec<Spanned<String>>,
    #[serde(default)]
    compile: Option<bool>,
    /// Console scripts pip generates, as `entry_points.txt` lines.
    #[serde(default)]
    scripts: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawActivity {
    name: Spanned<String>,
    kind: Spanned<String>,
    #[serde(default)]
    modules: Vec<Spanned<String>>,
    #[serde(default)]
    after: Vec<Spanned<String>>,
    /// `kind = "trace"`: the recorded tool (`cp`, `pip`, `python` or a name).
    #[serde(default)]
    program: Option<Spanned<String>>,
    /// `kind = "trace"`: the recorded command line.
    #[serde(default)]
    argv: Vec<String>,
    /// `kind = "trace"`: the recorded exit status.
    #[serde(default)]
    exit: Option<i32>,
    /// `kind = "trace"`: the recorded prefix ops, one line each.
    #[serde(default)]
    ops: Vec<Spanned<String>>,
    /// `kind = "script"`: the kit's primitives, in order.
    #[serde(default)]
    steps: Vec<Spanned<toml::Value>>,
    /// Ran to completion before any job starts (an earlier install).
    #[serde(default)]
    initial: bool,
}

/// TOML values with the line each starts on (a list of steps).
fn with_lines(values: Vec<Spanned<toml::Value>>, lines: &LineIndex) -> Vec<(toml::Value, usize)> {
    values
        .into_iter()
        .map(|v| {
            let line = lines.line(v.span().start);
            (v.into_inner(), line)
        })
        .collect()
}

/// The 1-based line of byte offset `offset` in `src`.
pub(crate) fn line_of(src: &str, offset: usize) -> usize {
    1 + src.as_bytes()[..offset.min(src.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
}

/// Converts a TOML error into a one-line input error naming line and field.
pub(crate) fn toml_error(file: &str, src: &str, err: &toml::de::Error) -> Error {
    let (line, field) = match err.span() {
        Some(span) => {
            let line = line_of(src, span.start);
            let text = src.lines().nth(line - 1).unwrap_or("");
            let field = match text.split_once('=') {
                Some((k, _)) if !text.trim_start().starts_with('[') => {
                    k.trim().trim_matches('"').to_string()
                }
                _ => text.trim().to_string(),
            };
            (line, field)
        }
        None => (0, String::from("document")),
    };
    // serde names the field itself for missing and unknown fields.
    let named = ["missing field `", "unknown field `"]
        .iter()
        .find_map(|p| err.message().strip_prefix(p))
        .and_then(|rest| rest.split('`').next())
        .map(str::to_string);
    let field = match named {
        Some(f) => f,
        None if field.is_empty() || field.starts_with('#') => "document".to_string(),
        None => field,
    };
    Error::input(file, line, field, err.message())
}

/// Refuses a name, prefix or other text that reports print when it holds a
/// control character: a newline in a name would let a scenario forge lines
/// of a report.
fn printable(file: &str, line: usize, field: &str, value: &str) -> Result<()> {
    match value.chars().find(|c| c.is_control()) {
        None => Ok(()),
        Some(c) => Err(Error::input(
            file,
            line,
            field,
            format!("{value:?} holds the control character {c:?}"),
        )),
    }
}

/// Something that can read files a scenario refers to.
pub trait FileSource {
    /// Reads `rel`, relative to the scenario file's directory.
    fn read(&self, rel: &str) -> std::io::Result<Vec<u8>>;
    /// The path to show in errors and to load packages from.
    fn resolve(&self, rel: &str) -> PathBuf;
}

struct DirSource(PathBuf);

impl FileSource for DirSource {
    fn read(&self, rel: &str) -> std::io::Result<Vec<u8>> {
        crate::limits::read_input(&self.resolve(rel))
    }
    fn resolve(&self, rel: &str) -> PathBuf {
        self.0.join(rel)
    }
}

/// Loads a scenario file.
pub fn load(path: &Path) -> Result<Scenario> {
    let shown = path.display().to_string();
    let bytes = crate::limits::read_input(path).map_err(|e| Error::io(&shown, &e))?;
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut s = parse(&shown, &bytes, &DirSource(dir))?;
    s.origin = Origin::File(shown);
    s.check().map_err(|e| locate(e, &bytes))?;
    Ok(s)
}

/// Gives a cross-reference error (found after parsing, so without a span) the
/// line of the first quoted name it mentions, when the file spells it.
fn locate(err: Error, bytes: &[u8]) -> Error {
    match err {
        Error::Input {
            file,
            line: 0,
            field,
            message,
        } => {
            let src = String::from_utf8_lossy(bytes);
            let quoted: Vec<&str> = message
                .split('"')
                .skip(1)
                .step_by(2)
                .filter(|q| !q.is_empty())
                .collect();
            let line = quoted
                .iter()
                .rev()
                .find_map(|q| {
                    let needle = format!("\"{q}\"");
                    src.lines().position(|l| l.contains(&needle)).map(|i| i + 1)
                })
                .unwrap_or(0);
            Error::Input {
                file,
                line,
                field,
                message,
            }
        }
        other => other,
    }
}

/// Parses scenario bytes; `file` names them in errors and `source` resolves
/// the files they refer to.
pub fn parse(file: &str, bytes: &[u8], source: &dyn FileSource) -> Result<Scenario> {
    let src = std::str::from_utf8(bytes).map_err(|e| {
        let line = line_of(
            std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or(""),
            usize::MAX,
        );
        Error::input(file, line, "encoding", "scenario is not valid UTF-8")
    })?;
    let raw: RawScenario = toml::from_str(src).map_err(|e| toml_error(file, src, &e))?;
    let line_index = LineIndex::new(src);
    let mut s = Scenario::new(raw.name.get_ref().clone());
    let name_line = line_index.line(raw.name.span().start);
    if s.name.trim().is_empty() {
        return Err(Error::input(
            file,
            name_line,
            "name",
            "scenario name is empty",
        ));
    }
    printable(file, name_line, "name", &s.name)?;
    printable(file, 1, "description", &raw.description)?;
    s.description = raw.description;
    if let Some(p) = raw.prefix {
        let line = line_index.line(p.span().start);
        let v = p.into_inner();
        printable(file, line, "prefix", &v)?;
        if !v.starts_with('/') || v.contains('\0') {
            return Err(Error::input(
                file,
                line,
                "prefix",
                "prefix must be an absolute display path",
            ));
        }
        s.prefix = v.trim_end_matches('/').to_string();
        if s.prefix.is_empty() {
            s.prefix = DEFAULT_PREFIX.to_string();
        }
    }
    if let Some(sp) = raw.site_packages {
        let line = line_index.line(sp.span().start);
        s.site_packages = normalize_relative("", sp.get_ref())
            .map_err(|e| Error::input(file, line, "site-packages", e.to_string()))?;
    } else {
        s.site_packages = DEFAULT_SITE_PACKAGES.to_string();
    }
    s.python_tag = match raw.python_tag {
        Some(t)
            if t.get_ref()
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                && !t.get_ref().is_empty() =>
        {
            t.into_inner()
        }
        Some(t) => {
            return Err(Error::input(
                file,
                line_index.line(t.span().start),
                "python-tag",
                "python tag must be like cpython-39",
            ))
        }
        None => DEFAULT_PYTHON_TAG.to_string(),
    };
    for v in raw.volatile {
        let line = line_index.line(v.span().start);
        if v.get_ref().starts_with('/') || v.get_ref().split('/').any(|c| c == "..") {
            return Err(Error::input(
                file,
                line,
                "volatile",
                format!(
                    "pattern {:?} must be relative and inside the prefix",
                    v.get_ref()
                ),
            ));
        }
        s.volatile.push(Glob::new(v.get_ref()));
    }
    let initial = raw.initial.into_iter().map(|p| (p, true));
    let mut budget = ScenarioBudget::default();
    for (p, is_initial) in raw.packages.into_iter().map(|p| (p, false)).chain(initial) {
        let line = line_index.line(p.name.span().start);
        let sources = [
            p.record.is_some(),
            p.wheel.is_some(),
            p.payload.is_some(),
            !p.files.is_empty(),
        ]
        .iter()
        .filter(|b| **b)
        .count();
        if sources != 1 {
            return Err(Error::input(
                file,
                line,
                "package",
                format!(
                    "package {:?} needs exactly one of record, wheel, payload or [[package.file]]",
                    p.name.get_ref()
                ),
            ));
        }
        let allowance = budget.allowance(p.name.get_ref());
        let mut pkg = if let Some(rel) = p
            .record
            .as_ref()
            .or(p.wheel.as_ref())
            .or(p.payload.as_ref())
        {
            let rline = line_index.line(rel.span().start);
            if Path::new(rel.get_ref()).is_absolute() || rel.get_ref().split('/').any(|c| c == "..")
            {
                return Err(Error::input(
                    file,
                    rline,
                    "record",
                    format!(
                        "{:?} must be a path below the scenario's directory",
                        rel.get_ref()
                    ),
                ));
            }
            let resolved = source.resolve(rel.get_ref());
            let unreadable = |e: std::io::Error| {
                Error::input(
                    file,
                    rline,
                    "record",
                    format!("cannot read {:?}: {e}", rel.get_ref()),
                )
            };
            if p.record.is_some() {
                let bytes = source.read(rel.get_ref()).map_err(unreadable)?;
                let shown = resolved.display().to_string();
                let payload = super::record::parse_record_within(
                    &shown,
                    &bytes,
                    &s.site_packages,
                    None,
                    &allowance,
                )?;
                Package {
                    name: String::new(),
                    version: String::new(),
                    payload,
                    after: Vec::new(),
                    compile: true,
                    scripts: Vec::new(),
                }
            } else {
                crate::limits::open_regular(&resolved).map_err(unreadable)?;
                super::load_package_file_within(
                    &resolved,
                    &s.site_packages,
                    super::WheelCheck::Verify,
                    &allowance,
                )?
            }
        } else {
            let payload = convert_files(file, &line_index, p.files, &s.site_packages, &allowance)?;
            Package {
                name: String::new(),
                version: String::new(),
                payload,
                after: Vec::new(),
                compile: true,
                scripts: Vec::new(),
            }
        };
        pkg.name = p.name.get_ref().clone();
        if pkg.name.trim().is_empty() {
            return Err(Error::input(file, line, "name", "package name is empty"));
        }
        printable(file, line, "name", &pkg.name)?;
        if let Some(v) = p.version {
            printable(file, line, "version", &v)?;
            pkg.version = v;
        }
        if !p.scripts.is_empty() {
            pkg.scripts = super::payload::convert_scripts(file, &line_index, &p.scripts)?;
        }
        if let Some(c) = p.compile {
            pkg.compile = c;
        }
        pkg.after = p.after.into_iter().map(Spanned::into_inner).collect();
        budget.charge(&pkg, file, line)?;
        if is_initial {
            if !pkg.after.is_empty() {
                return Err(Error::input(
                    file,
                    line,
                    "after",
                    "an [[initial]] package is present before any job starts: it takes no `after`",
                ));
            }
            s.initial.push(pkg);
        } else {
            s.packages.push(pkg);
        }
    }
    for a in raw.activities {
        let line = line_index.line(a.kind.span().start);
        let initial = a.initial;
        if initial && !a.after.is_empty() {
            return Err(Error::input(
                file,
                line,
                "after",
                "an initial activity runs before any job starts: it takes no `after`",
            ));
        }
        printable(file, line, "name", a.name.get_ref())?;
        if let Some(program) = &a.program {
            printable(file, line, "program", program.get_ref())?;
        }
        let is_trace = a.kind.get_ref() == "trace";
        let is_script = a.kind.get_ref() == "script";
        if !a.steps.is_empty() && !is_script {
            return Err(Error::input(
                file,
                line,
                "steps",
                "steps belong to kind = \"script\"",
            ));
        }
        let trace_fields = !a.argv.is_empty()
            || a.exit.is_some()
            || !a.ops.is_empty()
            || (a.program.is_some() && !is_script);
        if trace_fields && !is_trace {
            return Err(Error::input(
                file,
                line,
                "kind",
                "program, argv, exit and ops belong to kind = \"trace\"",
            ));
        }
        if (is_trace || is_script) && !a.modules.is_empty() {
            return Err(Error::input(
                file,
                line,
                "modules",
                "modules belong to kind = \"import\"; a trace replays its recorded ops",
            ));
        }
        let activity = match a.kind.get_ref().as_str() {
            "import" => {
                if a.modules.is_empty() {
                    return Err(Error::input(
                        file,
                        line,
                        "modules",
                        "an import activity needs at least one module",
                    ));
                }
                for m in &a.modules {
                    validate_module_name(m.get_ref()).map_err(|msg| {
                        Error::input(
                            file,
                            line_index.line(m.span().start),
                            "modules",
                            format!("{:?}: {msg}", m.get_ref()),
                        )
                    })?;
                }
                Activity::Import {
                    name: a.name.into_inner(),
                    modules: a.modules.into_iter().map(Spanned::into_inner).collect(),
                    after: a.after.into_iter().map(Spanned::into_inner).collect(),
                }
            }
            "trace" => {
                let program = match &a.program {
                    Some(p) if !p.get_ref().trim().is_empty() => {
                        crate::job::TraceProgram::from_name(p.get_ref())
                    }
                    _ => {
                        return Err(Error::input(
                            file,
                            line,
                            "program",
                            "a trace activity needs a program (cp, pip, python or a name)",
                        ))
                    }
                };
                let lines: Vec<&str> = a.ops.iter().map(|o| o.get_ref().as_str()).collect();
                let ops = crate::record::op_line::parse_ops(&lines).map_err(|(i, msg)| {
                    Error::input(file, line_index.line(a.ops[i].span().start), "ops", msg)
                })?;
                Activity::Trace {
                    name: a.name.into_inner(),
                    spec: std::sync::Arc::new(crate::job::TraceSpec {
                        program,
                        argv: a.argv,
                        exit: a.exit.unwrap_or(0),
                        ops,
                    }),
                    after: a.after.into_iter().map(Spanned::into_inner).collect(),
                }
            }
            "script" => {
                let program = match &a.program {
                    Some(p) if !p.get_ref().trim().is_empty() => p.get_ref().clone(),
                    _ => {
                        return Err(Error::input(
                            file,
                            line,
                            "program",
                            "a script activity needs a program (pnpm, uv, spack, cp, …)",
                        ))
                    }
                };
                if a.steps.is_empty() {
                    return Err(Error::input(
                        file,
                        line,
                        "steps",
                        "a script activity needs at least one step",
                    ));
                }
                let steps = with_lines(a.steps, &line_index);
                let name = a.name.into_inner();
                let script = super::script_steps::parse_steps(file, &program, steps)?;
                Activity::Script {
                    name,
                    script: std::sync::Arc::new(script),
                    after: a.after.into_iter().map(Spanned::into_inner).collect(),
                }
            }
            other => {
                return Err(Error::input(
                    file,
                    line,
                    "kind",
                    format!("unknown activity kind {other:?}: expected import, trace or script"),
                ))
            }
        };
        if initial {
            s.initial_activities.push(activity);
        } else {
            s.activities.push(activity);
        }
    }
    let mut reserved = crate::strategy::reserved_names();
    for st in raw.strategies {
        let steps = with_lines(st.steps, &line_index);
        let declared = crate::strategy::parse_declared(
            file,
            (st.name.get_ref(), line_index.line(st.name.span().start)),
            &st.summary,
            &steps,
            &reserved,
        )?;
        reserved.push(declared.name.clone());
        s.strategies.push(declared);
    }
    if let Some(expect) = raw.expect {
        let is_strategy = |name: &str| crate::strategy::scenario_strategy(name, &s).is_ok();
        s.expectation = Some(expect.check(file, &line_index, &is_strategy)?);
    }
    if let Some(recovery) = raw.recovery {
        let is_strategy = |name: &str| crate::strategy::scenario_strategy(name, &s).is_ok();
        s.recovery = recovery.check(file, &line_index, &is_strategy)?;
    }
    s.origin = Origin::Code;
    Ok(s)
}

/// Parses a built-in scenario whose referenced files are embedded.
pub(crate) fn parse_embedded(
    name: &str,
    bytes: &[u8],
    files: &'static [(&'static str, &'static [u8])],
) -> Result<Scenario> {
    struct Embedded(&'static [(&'static str, &'static [u8])]);
    impl FileSource for Embedded {
        fn read(&self, rel: &str) -> std::io::Result<Vec<u8>> {
            self.0
                .iter()
                .find(|(n, _)| *n == rel)
                .map(|(_, b)| b.to_vec())
                .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, rel.to_string()))
        }
        fn resolve(&self, rel: &str) -> PathBuf {
            PathBuf::from(format!("builtin:{rel}"))
        }
    }
    let mut s = parse(&format!("builtin:{name}"), bytes, &Embedded(files))?;
    s.origin = Origin::Builtin(name.to_string());
    s.check()?;
    Ok(s)
}
