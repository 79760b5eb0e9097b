//! Scenarios: packages with payloads, activities, dependency edges and
//! volatile paths.
//!
//! A scenario is loaded from TOML ([`load`]), from a built-in name
//! ([`builtin`]), built ad hoc from `--package`/`--import` flags
//! ([`Scenario::ad_hoc`]), or built in code with the TOML's rules
//! ([`Scenario::builder`]). Parsing is strict and every path is validated to
//! stay inside the prefix.

mod allowance;
use allowance::PackageAllowance;
mod budget;
mod builder;
pub mod builtin;
mod entry_points;
mod expectation;
mod glob;
mod line_index;
mod payload;
mod python_version;
mod record;
mod recovery;
mod script_steps;
mod toml_format;
pub(crate) mod toml_quote;
mod wheel;
mod zip_directory;

pub use builder::ScenarioBuilder;
pub use entry_points::EntryPoint;
pub use expectation::{Expectation, ExpectedVerdict, DEFAULT_EXPECT_STRATEGY};
pub use glob::Glob;
pub use payload::{load_payload_toml, PayloadEntry, PayloadKind};
pub use python_version::{version_of_wheels, wheel_versions, PythonVersion};
pub use record::parse_record;
pub use recovery::{Recovery, Rerun};
pub use toml_format::{load, parse, FileSource};
pub use wheel::{read_wheel, read_wheel_with, WheelCheck};

use std::path::Path;
use std::sync::Arc;

use crate::error::{Error, Result};

/// Default display prefix, as in SageMath's build.
pub const DEFAULT_PREFIX: &str = "/sage/local";
/// Default site-packages directory, relative to the prefix.
pub const DEFAULT_SITE_PACKAGES: &str = "lib/python3.9/site-packages";
/// Default bytecode tag.
pub const DEFAULT_PYTHON_TAG: &str = "cpython-39";

/// A package to install: its payload and the jobs it must wait for.
#[derive(Debug, Clone)]
pub struct Package {
    /// Distribution name.
    pub name: String,
    /// Version, if known.
    pub version: String,
    /// What the package puts in the prefix, in wheel (RECORD) order.
    pub payload: Vec<PayloadEntry>,
    /// Names of jobs that must finish first (make's dependency edges).
    pub after: Vec<String>,
    /// Whether the installer byte-compiles (pip's default).
    pub compile: bool,
    /// The console and GUI scripts pip generates under `bin/` after
    /// compiling, from a wheel's `entry_points.txt`, in pip's order.
    pub scripts: Vec<EntryPoint>,
}

impl Package {
    /// The `.dist-info` directory of the payload, relative to the prefix.
    pub fn dist_info(&self) -> Option<String> {
        self.payload.iter().find_map(|e| {
            let (dir, name) = crate::fs::split_parent(&e.path);
            (name == "RECORD" && dir.ends_with(".dist-info")).then(|| dir.to_string())
        })
    }
}

/// Concurrent activity that is not an install.
#[derive(Debug, Clone)]
pub enum Activity {
    /// A Python process importing modules from the prefix.
    Import {
        /// Job name.
        name: String,
        /// Dotted module names, imported in order.
        modules: Vec<String>,
        /// Jobs that must finish first.
        after: Vec<String>,
    },
    /// A recorded process replayed op by op (from an strace log).
    Trace {
        /// Job name.
        name: String,
        /// What the process was and did.
        spec: Arc<crate::job::TraceSpec>,
        /// Jobs that must finish first.
        after: Vec<String>,
    },
    /// An installer composed of the kit's primitives
    /// (`kind = "script"`, see [`crate::kit`]).
    Script {
        /// Job name.
        name: String,
        /// The program and its steps.
        script: Arc<crate::kit::Script>,
        /// Jobs that must finish first.
        after: Vec<String>,
    },
}

impl Activity {
    /// The job name.
    pub fn name(&self) -> &str {
        match self {
            Activity::Import { name, .. }
            | Activity::Trace { name, .. }
            | Activity::Script { name, .. } => name,
        }
    }

    /// Jobs that must finish first.
    pub fn after(&self) -> &[String] {
        match self {
            Activity::Import { after, .. }
            | Activity::Trace { after, .. }
            | Activity::Script { after, .. } => after,
        }
    }
}

/// How a scenario was given on the command line, so reports can print a
/// replay command that rebuilds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A TOML file, as the user spelled its path.
    File(String),
    /// A built-in scenario name.
    Builtin(String),
    /// Built from flags: `--package`, `--import` and `--python` arguments.
    Flags {
        /// `--package` arguments.
        packages: Vec<String>,
        /// `--import` arguments.
        imports: Vec<String>,
        /// `--python` argument.
        python: Option<PythonVersion>,
    },
    /// Built in code.
    Code,
}

impl Origin {
    /// How errors name the scenario: its file, `builtin:NAME` or its flags;
    /// `None` for a scenario built in code.
    pub fn label(&self) -> Option<String> {
        match self {
            Origin::Code => None,
            other => Some(other.cli_args()),
        }
    }

    /// Prefixes `message` with [`Origin::label`], the way input errors name their file.
    pub fn qualify(&self, message: String) -> String {
        match self.label() {
            Some(l) => format!("{l}: {message}"),
            None => message,
        }
    }

    /// The command-line arguments that rebuild this scenario.
    pub fn cli_args(&self) -> String {
        match self {
            Origin::File(p) => shell_quote(p),
            Origin::Builtin(n) => format!("builtin:{n}"),
            Origin::Flags {
                packages,
                imports,
                python,
            } => {
                let mut parts = Vec::new();
                for p in packages {
                    parts.push(format!("--package {}", shell_quote(p)));
                }
                for i in imports {
                    parts.push(format!("--import {}", shell_quote(i)));
                }
                if let Some(v) = python {
                    parts.push(format!("--python {v}"));
                }
                parts.join(" ")
            }
            Origin::Code => "<scenario>".to_string(),
        }
    }
}

/// Quotes `s` for a POSIX shell when it needs it.
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@+,".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// A recorded install situation.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Short name.
    pub name: String,
    /// What it reproduces.
    pub description: String,
    /// The prefix as the real tools would print it (`/sage/local`).
    pub prefix: String,
    /// site-packages relative to the prefix.
    pub site_packages: String,
    /// Bytecode tag, e.g. `cpython-39`.
    pub python_tag: String,
    /// Packages, in declaration order.
    pub packages: Vec<Package>,
    /// Packages already installed in the prefix before any job starts
    /// (`[[initial]]` tables): every execution and the serial reference
    /// start from the prefix a serial direct install of them leaves.
    pub initial: Vec<Package>,
    /// Activities that ran to completion before any job starts
    /// (`[[activity]]` tables with `initial = true`, such as an earlier
    /// `npm install` that left `node_modules/acorn`): laid down serially
    /// after the initial packages, on every fresh filesystem.
    pub initial_activities: Vec<Activity>,
    /// Activities, in declaration order.
    pub activities: Vec<Activity>,
    /// Paths whose final state may differ between orders.
    pub volatile: Vec<Glob>,
    /// Where the scenario came from.
    pub origin: Origin,
    /// Strategies the scenario declares in `[[strategy]]` tables.
    pub strategies: Vec<crate::strategy::DeclaredStrategy>,
    /// What `prefixrace corpus` should find (the `[expect]` table), if anything.
    pub expectation: Option<Expectation>,
    /// What the user does after a crash (the `[recovery]` table), for
    /// `--faults crash`.
    pub recovery: Recovery,
}

/// Gives packages that share a name, as the same wheel given twice on the
/// command line does (SageMath 33060: two pips of one wheel), the numbers
/// `NAME-1`, `NAME-2`, … in the order given, so each is a job of its own.
fn number_repeated_packages(packages: &mut [Package]) {
    let names: Vec<String> = packages.iter().map(|p| p.name.clone()).collect();
    let mut seen: std::collections::BTreeMap<&str, usize> = Default::default();
    for (package, name) in packages.iter_mut().zip(&names) {
        if names.iter().filter(|n| *n == name).count() > 1 {
            let k = seen.entry(name).or_insert(0);
            *k += 1;
            package.name = format!("{name}-{k}");
        }
    }
}

impl Scenario {
    /// An empty scenario with the default prefix layout.
    pub fn new(name: impl Into<String>) -> Scenario {
        Scenario {
            name: name.into(),
            description: String::new(),
            prefix: DEFAULT_PREFIX.to_string(),
            site_packages: DEFAULT_SITE_PACKAGES.to_string(),
            python_tag: DEFAULT_PYTHON_TAG.to_string(),
            packages: Vec::new(),
            initial: Vec::new(),
            initial_activities: Vec::new(),
            activities: Vec::new(),
            volatile: Vec::new(),
            origin: Origin::Code,
            strategies: Vec::new(),
            expectation: None,
            recovery: Recovery::default(),
        }
    }

    /// Builds a scenario from `--package` files (wheel, RECORD or payload TOML)
    /// and `--import` module names; wheels are checked as `check` says.
    /// The Python version is the one the wheels' tags pin, if any.
    pub fn ad_hoc(packages: &[String], imports: &[String], check: WheelCheck) -> Result<Scenario> {
        Scenario::ad_hoc_for(packages, imports, check, None)
    }

    /// [`Scenario::ad_hoc`] for Python `python` (`--python X.Y`): its
    /// site-packages and bytecode tag, whatever the wheels' tags say. Without
    /// it, a wheel tagged `cp311` gives 3.11, wheels pinning no version keep
    /// the default (3.9), and wheels pinning different ones are an error.
    pub fn ad_hoc_for(
        packages: &[String],
        imports: &[String],
        check: WheelCheck,
        python: Option<PythonVersion>,
    ) -> Result<Scenario> {
        let mut s = Scenario::new("ad-hoc");
        let version = match python {
            Some(v) => Some(v),
            None => version_of_wheels(packages)?,
        };
        if let Some(v) = version {
            s.site_packages = v.site_packages();
            s.python_tag = v.tag();
        }
        for p in packages {
            s.packages.push(load_package_file_with(
                Path::new(p),
                &s.site_packages,
                check,
            )?);
        }
        number_repeated_packages(&mut s.packages);
        for (i, m) in imports.iter().enumerate() {
            validate_module_name(m).map_err(|msg| Error::Usage(format!("--import {m}: {msg}")))?;
            let name = if imports.len() == 1 {
                format!("import-{}", m.to_lowercase())
            } else {
                format!("import-{}-{i}", m.to_lowercase())
            };
            s.activities.push(Activity::Import {
                name,
                modules: vec![m.clone()],
                after: Vec::new(),
            });
        }
        s.origin = Origin::Flags {
            packages: packages.to_vec(),
            imports: imports.to_vec(),
            python,
        };
        s.check()?;
        Ok(s)
    }

    /// Names of all jobs: packages first, then activities.
    pub fn job_names(&self) -> Vec<String> {
        self.packages
            .iter()
            .map(|p| p.name.clone())
            .chain(self.activities.iter().map(|a| a.name().to_string()))
            .collect()
    }

    /// The source file of a dotted module, relative to the prefix, if any
    /// package installs it (or a recorded trace activity creates it):
    /// `M/__init__.py` for a package, `M.py` for a module.
    pub fn module_source(&self, module: &str) -> Option<Arc<str>> {
        let rel = module.replace('.', "/");
        let candidates = [
            format!("{}/{rel}/__init__.py", self.site_packages),
            format!("{}/{rel}.py", self.site_packages),
        ];
        for c in candidates {
            for p in &self.packages {
                if let Some(e) = p
                    .payload
                    .iter()
                    .find(|e| *e.path == *c && matches!(e.kind, PayloadKind::File(_)))
                {
                    return Some(e.path.clone());
                }
            }
            for a in &self.activities {
                if let Activity::Trace { spec, .. } = a {
                    if spec.creates_file(&c) {
                        return Some(c.as_str().into());
                    }
                }
            }
        }
        None
    }

    /// Checks cross-references: unique job names, known dependencies, no
    /// cycles, importable modules.
    pub fn check(&self) -> Result<()> {
        let file = match &self.origin {
            Origin::File(f) => f.clone(),
            Origin::Code => format!("scenario {:?} in code", self.name),
            other => other.cli_args(),
        };
        let names = self.job_names();
        for (i, n) in names.iter().enumerate() {
            if names[..i].contains(n) {
                return Err(Error::input(
                    &file,
                    0,
                    "name",
                    format!("duplicate job name {n:?}"),
                ));
            }
        }
        let afters: Vec<&[String]> = self
            .packages
            .iter()
            .map(|p| p.after.as_slice())
            .chain(self.activities.iter().map(|a| a.after()))
            .collect();
        for (i, after) in afters.iter().enumerate() {
            for a in after.iter() {
                if !names.contains(a) {
                    return Err(Error::input(
                        &file,
                        0,
                        "after",
                        format!("job {:?} depends on unknown job {a:?}", names[i]),
                    ));
                }
            }
        }
        if let Some(cycle) = self.dependency_cycle() {
            return Err(Error::input(
                &file,
                0,
                "after",
                format!(
                    "dependency cycle: {}",
                    cycle
                        .iter()
                        .map(|c| format!("{c:?}"))
                        .collect::<Vec<_>>()
                        .join(" -> ")
                ),
            ));
        }
        for a in &self.activities {
            let Activity::Import { name, modules, .. } = a else {
                continue;
            };
            for m in modules {
                if self.module_source(m).is_none() {
                    return Err(Error::input(
                        &file,
                        0,
                        "modules",
                        format!(
                            "activity {name:?} imports {m:?}, which no package installs under {}",
                            self.site_packages
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Dependency edges as job indices: `deps[j]` must finish before `j`.
    pub fn dependency_indices(&self) -> Vec<Vec<usize>> {
        let names = self.job_names();
        let afters: Vec<&[String]> = self
            .packages
            .iter()
            .map(|p| p.after.as_slice())
            .chain(self.activities.iter().map(|a| a.after()))
            .collect();
        afters
            .iter()
            .map(|after| {
                after
                    .iter()
                    .filter_map(|a| names.iter().position(|n| n == a))
                    .collect()
            })
            .collect()
    }

    fn dependency_cycle(&self) -> Option<Vec<String>> {
        let names = self.job_names();
        let deps = self.dependency_indices();
        let mut state = vec![0u8; names.len()];
        fn dfs(
            v: usize,
            deps: &[Vec<usize>],
            state: &mut [u8],
            path: &mut Vec<usize>,
        ) -> Option<Vec<usize>> {
            state[v] = 1;
            path.push(v);
            for &d in &deps[v] {
                if state[d] == 1 {
                    let start = path.iter().position(|&x| x == d).unwrap_or(0);
                    let mut cycle = path[start..].to_vec();
                    cycle.push(d);
                    return Some(cycle);
                }
                if state[d] == 0 {
                    if let Some(c) = dfs(d, deps, state, path) {
                        return Some(c);
                    }
                }
            }
            path.pop();
            state[v] = 2;
            None
        }
        for v in 0..names.len() {
            if state[v] == 0 {
                if let Some(c) = dfs(v, &deps, &mut state, &mut Vec::new()) {
                    return Some(c.into_iter().map(|i| names[i].clone()).collect());
                }
            }
        }
        None
    }
}

/// Checks a dotted module name.
pub fn validate_module_name(m: &str) -> std::result::Result<(), String> {
    let ok = !m.is_empty()
        && m.split('.').all(|part| {
            !part.is_empty()
                && !part.starts_with(|c: char| c.is_ascii_digit())
                && part.chars().all(|c| c.is_alphanumeric() || c == '_')
        });
    if ok {
        Ok(())
    } else {
        Err("not a valid dotted module name".to_string())
    }
}

/// Loads one package from a file given to `--package` or a scenario: a wheel
/// (`.whl`), a payload TOML (`.toml`) or a RECORD file (anything else).
pub fn load_package_file(path: &Path, site_packages: &str) -> Result<Package> {
    load_package_file_with(path, site_packages, WheelCheck::Verify)
}

/// [`load_package_file`], a wheel checked as `check` says.
pub fn load_package_file_with(
    path: &Path,
    site_packages: &str,
    check: WheelCheck,
) -> Result<Package> {
    load_package_file_within(path, site_packages, check, &PackageAllowance::standalone())
}

/// [`load_package_file_with`] for a package that may hold at most
/// `allowance` (checked before its bytes are read or made).
pub(crate) fn load_package_file_within(
    path: &Path,
    site_packages: &str,
    check: WheelCheck,
    allowance: &PackageAllowance,
) -> Result<Package> {
    let shown = path.display().to_string();
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    if ext == "whl" {
        return wheel::read_wheel_within(path, site_packages, check, allowance);
    }
    if ext == "toml" {
        return payload::load_payload_toml_within(path, site_packages, allowance);
    }
    let bytes = crate::limits::read_input(path).map_err(|e| Error::io(&shown, &e))?;
    let (name, version) = name_version_from_record_path(path);
    let payload = record::parse_record_within(&shown, &bytes, site_packages, None, allowance)?;
    let mut pkg = Package {
        name,
        version,
        payload,
        after: Vec::new(),
        compile: true,
        scripts: Vec::new(),
    };
    if let Some(di) = pkg.dist_info() {
        let base = crate::fs::split_parent(&di)
            .1
            .trim_end_matches(".dist-info")
            .to_string();
        if let Some((n, v)) = base.split_once('-') {
            pkg.name = n.to_string();
            pkg.version = v.to_string();
        }
    }
    Ok(pkg)
}

fn name_version_from_record_path(path: &Path) -> (String, String) {
    let stem = path
        .file_name()
        .and_then(|s| s.to_str())
        .unwrap_or("package");
    let stem = stem.trim_end_matches(".RECORD");
    match stem.split_once('-') {
        Some((n, v)) => (n.to_string(), v.to_string()),
        None => (stem.to_string(), String::new()),
    }
}
