//! `prefixrace record`: turns real installs into payload manifests and
//! scenarios, written to stdout or `-o FILE`.
//!
//! ```text
//! prefixrace record wheel X.whl [--scenario --import M]     # payload (or scenario)
//! prefixrace record record-file RECORD [--scenario]         # payload, stand-in bytes
//! prefixrace record tree STAGE [--copy-into /sage/local]    # inode order, no symlink followed
//! prefixrace record strace LOG... [--prefix P] [--import M] # one trace job per process
//! prefixrace record run --prefix P [--import M] -- CMD ARGS [-- CMD2 ARGS] # strace -f each, then as above
//! ```
//!
//! Every output is deterministic and is checked to load before it is written;
//! bad input is a one-line error naming the file (and line), exit 2.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};

use prefixrace::internals::gate::snapshot::Snapshot;
use prefixrace::internals::record::{payload_toml, scenario_toml, strace, tree};
use prefixrace::scenario::{self, validate_module_name, DEFAULT_SITE_PACKAGES};
use prefixrace::{Error, Result};

/// Arguments of `record`.
#[derive(Args, Debug)]
pub struct RecordArgs {
    /// What to record from.
    #[command(subcommand)]
    pub source: RecordSource,
}

/// Where the output goes and how paths are laid out.
#[derive(Args, Debug, Clone)]
pub struct OutputArgs {
    /// Write to this file instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Options of the scenario-writing importers.
#[derive(Args, Debug, Clone)]
pub struct ScenarioOptions {
    /// The scenario's name (default: from the input's file name).
    #[arg(long)]
    pub name: Option<String>,
    /// Add a concurrent `import MODULE` activity.
    #[arg(long = "import", value_name = "MODULE")]
    pub imports: Vec<String>,
}

/// The importers.
#[derive(Subcommand, Debug)]
pub enum RecordSource {
    /// A wheel: RECORD order, real member bytes and modes -> payload manifest
    /// (or, with --scenario, a scenario installing it).
    Wheel {
        /// The `.whl` file.
        file: PathBuf,
        /// site-packages relative to the prefix (default: that of `--python`,
        /// or of the version the wheel's tags pin, or lib/python3.9/site-packages).
        #[arg(long)]
        site_packages: Option<String>,
        /// Record for this Python (`3.11`), whatever the wheel's tags pin.
        #[arg(long, value_name = "X.Y")]
        python: Option<String>,
        /// Write a scenario that installs the package instead of a payload manifest.
        #[arg(long = "scenario")]
        as_scenario: bool,
        /// Do not compare the members with the sizes and hashes the RECORD
        /// lists (as `pip install` does by default).
        #[arg(long)]
        no_verify: bool,
        #[command(flatten)]
        scenario: ScenarioOptions,
        #[command(flatten)]
        out: OutputArgs,
    },
    /// A wheel's RECORD file -> payload manifest (stand-in bytes of the recorded
    /// sizes), or with --scenario a scenario installing it.
    RecordFile {
        /// The RECORD file.
        file: PathBuf,
        /// site-packages relative to the prefix.
        #[arg(long, default_value = DEFAULT_SITE_PACKAGES)]
        site_packages: String,
        /// Write a scenario that installs the package instead of a payload manifest.
        #[arg(long = "scenario")]
        as_scenario: bool,
        #[command(flatten)]
        scenario: ScenarioOptions,
        #[command(flatten)]
        out: OutputArgs,
    },
    /// A staging tree as it is on disk, in cp's inode order -> payload manifest,
    /// or with --copy-into a scenario whose cp job copies it in that order.
    Tree {
        /// The staged prefix (what `cp -Rp DIR/. PREFIX` copies).
        dir: PathBuf,
        /// site-packages relative to the prefix.
        #[arg(long, default_value = DEFAULT_SITE_PACKAGES)]
        site_packages: String,
        /// Write a scenario: `cp -Rp DIR/. PREFIX` as a trace job in the recorded order.
        #[arg(long, value_name = "PREFIX")]
        copy_into: Option<String>,
        /// Write a scenario that installs the tree as a package.
        #[arg(long = "scenario", conflicts_with = "copy_into")]
        as_scenario: bool,
        #[command(flatten)]
        scenario: ScenarioOptions,
        #[command(flatten)]
        out: OutputArgs,
    },
    /// `strace -f` logs (plain or gzip) -> scenario, one trace job per process.
    /// Several logs run concurrently in one prefix (each log's own prefix is
    /// mapped onto the first's).
    Strace {
        /// The logs.
        #[arg(required = true)]
        logs: Vec<PathBuf>,
        /// The prefix as the log shows it (default: inferred from cp/pip arguments).
        #[arg(long)]
        prefix: Option<String>,
        /// The directory the traced command started in (resolves relative paths).
        #[arg(long, value_name = "DIR")]
        cwd: Option<String>,
        #[command(flatten)]
        scenario: ScenarioOptions,
        #[command(flatten)]
        out: OutputArgs,
    },
    /// Run commands under `strace -f` and record them -> scenario. Several
    /// commands (`-- cp … -- python3 …`) are each recorded alone, starting
    /// from the prefix as it was found (what commands started together see),
    /// and become concurrent jobs of one scenario. The prefix is put back as
    /// it was found afterwards.
    Run {
        /// The prefix the command installs into.
        #[arg(long, required = true)]
        prefix: String,
        #[command(flatten)]
        scenario: ScenarioOptions,
        #[command(flatten)]
        out: OutputArgs,
        /// The command and its arguments, after `--`; more commands each after
        /// another `--`.
        #[arg(last = true, required = true, value_name = "CMD")]
        command: Vec<String>,
    },
}

/// Runs `prefixrace record`.
pub fn run(args: &RecordArgs) -> Result<i32> {
    let (text, out) = match &args.source {
        RecordSource::Wheel {
            file,
            site_packages,
            python,
            as_scenario,
            no_verify,
            scenario,
            out,
        } => {
            let check = if *no_verify {
                scenario::WheelCheck::NoVerify
            } else {
                scenario::WheelCheck::Verify
            };
            let version = match python {
                Some(v) => Some(
                    scenario::PythonVersion::parse(v)
                        .map_err(|why| Error::Usage(format!("--python: {why}")))?,
                ),
                None => scenario::version_of_wheels(&[file.display().to_string()])?,
            };
            let site_packages = match (site_packages, version) {
                (Some(s), _) => s.clone(),
                (None, Some(v)) => v.site_packages(),
                (None, None) => DEFAULT_SITE_PACKAGES.to_string(),
            };
            let pkg = scenario::read_wheel_with(file, &site_packages, check)?;
            let tag = version.map(|v| v.tag());
            let layout = Layout {
                site_packages: &site_packages,
                python_tag: tag.as_deref(),
            };
            let text = package_text(&pkg, layout, file, *as_scenario, scenario)?;
            (text, out)
        }
        RecordSource::RecordFile {
            file,
            site_packages,
            as_scenario,
            scenario,
            out,
        } => {
            let pkg = scenario::load_package_file(file, site_packages)?;
            let text = package_text(
                &pkg,
                Layout::default_tag(site_packages),
                file,
                *as_scenario,
                scenario,
            )?;
            (text, out)
        }
        RecordSource::Tree {
            dir,
            site_packages,
            copy_into,
            as_scenario,
            scenario,
            out,
        } => {
            let pkg = tree::record_tree(dir)?;
            let text = match copy_into {
                None => package_text(
                    &pkg,
                    Layout::default_tag(site_packages),
                    dir,
                    *as_scenario,
                    scenario,
                )?,
                Some(prefix) => {
                    check_imports(&scenario.imports)?;
                    let prefix = absolute_display(prefix)?;
                    let src = format!("{}/.", dir.display().to_string().trim_end_matches('/'));
                    let spec = tree::copy_trace(&pkg.payload, &prefix, &src);
                    let log = strace::StraceLog {
                        prefix,
                        processes: vec![strace::TracedProcess {
                            name: "cp-1".into(),
                            spec,
                        }],
                    };
                    let name = scenario.name.clone().unwrap_or_else(|| pkg.name.clone());
                    render_log(&log, &name, &file_name(dir), &scenario.imports)?
                }
            };
            (text, out)
        }
        RecordSource::Strace {
            logs,
            prefix,
            cwd,
            scenario,
            out,
        } => {
            check_imports(&scenario.imports)?;
            let mut parsed = Vec::new();
            for log in logs {
                let shown = log.display().to_string();
                let text = strace::read_log(log)?;
                parsed.push(strace::parse_log(
                    &shown,
                    &text,
                    prefix.as_deref(),
                    cwd.as_deref(),
                )?);
            }
            let merged = strace::StraceLog::merge(parsed).expect("clap requires a log");
            let sources: Vec<String> = logs.iter().map(|l| file_name(l)).collect();
            let source = sources.join(" + ");
            let name = scenario.name.clone().unwrap_or_else(|| {
                sources[0]
                    .trim_end_matches(".gz")
                    .trim_end_matches(".trace")
                    .trim_end_matches(".log")
                    .to_string()
            });
            (render_log(&merged, &name, &source, &scenario.imports)?, out)
        }
        RecordSource::Run {
            prefix,
            scenario,
            out,
            command,
        } => {
            check_imports(&scenario.imports)?;
            let prefix = absolute_display(prefix)?;
            let commands: Vec<&[String]> = command
                .split(|a| a == "--")
                .filter(|c| !c.is_empty())
                .collect();
            if commands.is_empty() {
                return Err(Error::Usage("record run: no command after `--`".into()));
            }
            let cwd = std::env::current_dir().map_err(|e| Error::io(".", &e))?;
            let logs = record_alone(Path::new(&prefix), &commands)?;
            let mut parsed = Vec::new();
            for log in &logs {
                let text = strace::read_log(log.path())?;
                parsed.push(strace::parse_log(
                    &log.path().display().to_string(),
                    &text,
                    Some(&prefix),
                    Some(&cwd.display().to_string()),
                )?);
            }
            let parsed = strace::StraceLog::merge(parsed).expect("at least one command");
            let name = scenario
                .name
                .clone()
                .unwrap_or_else(|| format!("recorded-{}", file_name(Path::new(&commands[0][0]))));
            let source = commands
                .iter()
                .map(|c| format!("`{}`", c.join(" ")))
                .collect::<Vec<_>>()
                .join(" + ");
            (render_log(&parsed, &name, &source, &scenario.imports)?, out)
        }
    };
    match &out.output {
        Some(path) => {
            std::fs::write(path, text).map_err(|e| Error::io(path.display().to_string(), &e))?
        }
        None => print!("{text}"),
    }
    Ok(0)
}

/// Where a recorded package goes: its site-packages, and the bytecode tag a
/// scenario written for it names (`None`: the default).
#[derive(Clone, Copy)]
struct Layout<'a> {
    site_packages: &'a str,
    python_tag: Option<&'a str>,
}

impl<'a> Layout<'a> {
    /// `site_packages` with the default bytecode tag.
    fn default_tag(site_packages: &'a str) -> Layout<'a> {
        Layout {
            site_packages,
            python_tag: None,
        }
    }
}

/// A package as a payload manifest, or as a scenario installing it.
fn package_text(
    pkg: &scenario::Package,
    layout: Layout<'_>,
    source: &Path,
    as_scenario: bool,
    opts: &ScenarioOptions,
) -> Result<String> {
    check_imports(&opts.imports)?;
    let source = file_name(source);
    if !as_scenario {
        if !opts.imports.is_empty() || opts.name.is_some() {
            return Err(Error::Usage(
                "--import and --name describe a scenario: add --scenario".into(),
            ));
        }
        return Ok(payload_toml::render(pkg, layout.site_packages, &source));
    }
    let name = opts.name.clone().unwrap_or_else(|| pkg.name.clone());
    let text = payload_toml::render_scenario(
        pkg,
        layout.site_packages,
        layout.python_tag,
        &source,
        &name,
        &opts.imports,
    );
    let parsed = scenario::parse("<recorded scenario>", text.as_bytes(), &NoFiles)?;
    parsed.check()?;
    Ok(text)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

fn check_imports(imports: &[String]) -> Result<()> {
    for m in imports {
        validate_module_name(m).map_err(|msg| Error::Usage(format!("--import {m}: {msg}")))?;
    }
    Ok(())
}

/// An absolute, normalized form of a prefix given on the command line.
fn absolute_display(prefix: &str) -> Result<String> {
    let p = Path::new(prefix);
    let abs = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(|e| Error::io(".", &e))?
            .join(p)
    };
    let s = abs.display().to_string();
    let trimmed = s.trim_end_matches('/');
    if trimmed.is_empty() {
        return Err(Error::Usage(
            "--prefix /: refusing to record the whole filesystem".into(),
        ));
    }
    Ok(trimmed.to_string())
}

/// Renders recorded processes as a scenario and checks that it loads.
fn render_log(
    log: &strace::StraceLog,
    name: &str,
    source: &str,
    imports: &[String],
) -> Result<String> {
    if log.processes.is_empty() {
        return Err(Error::Usage(format!(
            "{source}: no process touched the prefix {}",
            log.prefix
        )));
    }
    let text = scenario_toml::render(log, name, source, imports);
    // The output must load: check it the way `explore` will.
    let parsed = scenario::parse("<recorded scenario>", text.as_bytes(), &NoFiles)?;
    parsed.check()?;
    Ok(text)
}

/// Recorded scenarios refer to no other files.
struct NoFiles;

impl scenario::FileSource for NoFiles {
    fn read(&self, rel: &str) -> std::io::Result<Vec<u8>> {
        Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            rel.to_string(),
        ))
    }
    fn resolve(&self, rel: &str) -> PathBuf {
        PathBuf::from(rel)
    }
}

/// Records each of `commands` under strace, alone, starting from the prefix
/// as it is now, and puts the prefix back as it was afterwards (also when a
/// recording fails).
fn record_alone(prefix: &Path, commands: &[&[String]]) -> Result<Vec<tempfile::NamedTempFile>> {
    let aside = tempfile::Builder::new()
        .prefix("prefixrace-record-")
        .tempdir()
        .map_err(|e| Error::io("<temporary directory>", &e))?;
    let gate_error = |e: prefixrace::internals::gate::GateError| Error::Usage(e.to_string());
    let snapshot = if prefix.is_dir() {
        Some(Snapshot::take_into(prefix, aside.path().join("prefix")).map_err(gate_error)?)
    } else {
        None
    };
    let mut logs = Vec::new();
    let mut outcome = Ok(());
    for (i, command) in commands.iter().enumerate() {
        if i > 0 {
            if let Some(s) = &snapshot {
                s.restore().map_err(gate_error)?;
            }
        }
        match run_under_strace(command) {
            Ok(log) => logs.push(log),
            Err(e) => {
                outcome = Err(e);
                break;
            }
        }
    }
    if let Some(s) = &snapshot {
        s.restore().map_err(gate_error)?;
    }
    outcome.map(|()| logs)
}

/// Runs `command` under `strace -f -tt -s 4096`, returning the log file.
fn run_under_strace(command: &[String]) -> Result<tempfile::NamedTempFile> {
    match std::process::Command::new("strace")
        .arg("-V")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
    {
        Ok(s) if s.success() => {}
        _ => {
            return Err(Error::Usage(
                "strace is not installed (or does not run): `record run` needs it; install it with `apt-get install strace`".into(),
            ))
        }
    }
    let log = tempfile::NamedTempFile::new().map_err(|e| Error::io("<temporary log>", &e))?;
    // The command's own output goes to stderr: stdout carries the scenario.
    let status = std::process::Command::new("strace")
        .args(["-f", "-tt", "-s", "4096", "-o"])
        .arg(log.path())
        .arg("--")
        .args(command)
        .stdout(std::io::stderr())
        .status()
        .map_err(|e| Error::io("strace", &e))?;
    let recorded = std::fs::metadata(log.path()).map(|m| m.len()).unwrap_or(0);
    if recorded == 0 {
        return Err(Error::Usage(format!(
            "strace recorded nothing for `{}` (exit status {status}): is ptrace permitted here?",
            command.join(" ")
        )));
    }
    if status.code().is_none() {
        return Err(Error::Usage(format!(
            "strace of `{}` was killed by a signal",
            command.join(" ")
        )));
    }
    Ok(log)
}
