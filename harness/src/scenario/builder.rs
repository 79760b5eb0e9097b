//! Scenarios built in code, with the TOML format's rules.
//!
//! [`ScenarioBuilder`] collects what a scenario file would say, call by
//! call, and [`ScenarioBuilder::build`] writes it out as a scenario
//! document and parses that with [`super::parse`]: the same checks, the
//! same path rules (file paths relative to site-packages, nothing outside
//! the prefix), the same cross-reference checks. There is no second copy of
//! the validation to drift. An error names the builder call at fault
//! instead of a line of the generated document:
//!
//! ```
//! use prefixrace::Scenario;
//!
//! let err = Scenario::builder("escape")
//!     .package("evil")
//!     .file("../../../../../etc/passwd", "root")
//!     .build()
//!     .unwrap_err();
//! assert_eq!(
//!     err.to_string(),
//!     "scenario \"escape\" in code, package \"evil\" .file(\"../../../../../etc/passwd\"): path: path \"../../../../../etc/passwd\" climbs out of the prefix"
//! );
//! ```
//!
//! Files named by [`ScenarioBuilder::record`], [`ScenarioBuilder::wheel`]
//! and [`ScenarioBuilder::payload`] are read from the path given (relative
//! to the current directory, which `cargo test` sets to the crate's), and
//! may be anywhere: the containment rule of a scenario file's references
//! guards against a hostile file, not against the test's own code.

use std::path::{Path, PathBuf};

use super::toml_format::{parse, FileSource};
use super::toml_quote::toml_str;
use super::Scenario;
use crate::error::{Error, Result};
use crate::strategy::DeclaredStrategy;

/// A scenario under construction; see [`Scenario::builder`].
///
/// Calls that describe a package (`file`, `dir`, `symlink`, `record`,
/// `wheel`, `payload`, `version`, `compile`) apply to the package started
/// last by [`ScenarioBuilder::package`] or [`ScenarioBuilder::initial`];
/// [`ScenarioBuilder::after`] applies to the package or activity started
/// last.
///
/// ```
/// use prefixrace::Scenario;
///
/// let scenario = Scenario::builder("two-pips")
///     .package("alpha")
///     .file("shared/__init__.py", "x = 1\n")
///     .file("alpha.py", "")
///     .package("beta")
///     .file("shared/__init__.py", "x = 2\n")
///     .import("import-shared", ["shared"])
///     .build()
///     .unwrap();
/// assert_eq!(scenario.job_names(), ["alpha", "beta", "import-shared"]);
/// assert_eq!(
///     &*scenario.packages[0].payload[0].path,
///     "lib/python3.9/site-packages/shared/__init__.py"
/// );
/// ```
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until build() is called"]
pub struct ScenarioBuilder {
    name: String,
    description: Option<String>,
    prefix: Option<String>,
    site_packages: Option<String>,
    python_tag: Option<String>,
    volatile: Vec<String>,
    packages: Vec<PackageSpec>,
    activities: Vec<ActivitySpec>,
    /// Scripts that ran before any job starts (`initial = true`).
    initial_scripts: Vec<(String, std::sync::Arc<crate::kit::Script>)>,
    strategies: Vec<DeclaredStrategy>,
    /// What was started last: a package (`true`) or an activity.
    last_is_package: bool,
    /// A call that had nothing to apply to.
    misuse: Option<String>,
}

#[derive(Debug, Clone)]
struct PackageSpec {
    initial: bool,
    name: String,
    version: Option<String>,
    compile: Option<bool>,
    after: Vec<String>,
    /// `record`, `wheel` and `payload` calls, with the real path.
    sources: Vec<(&'static str, PathBuf)>,
    files: Vec<FileSpec>,
}

#[derive(Debug, Clone)]
struct FileSpec {
    /// How the call was spelled, for errors.
    call: String,
    /// `key = value` pairs, values already quoted.
    fields: Vec<(&'static str, String)>,
}

#[derive(Debug, Clone)]
struct ActivitySpec {
    name: String,
    modules: Vec<String>,
    after: Vec<String>,
    /// A script activity's script; `None` for an import.
    script: Option<std::sync::Arc<crate::kit::Script>>,
}

impl Scenario {
    /// Starts a scenario in code named `name`. See [`ScenarioBuilder`].
    pub fn builder(name: impl Into<String>) -> ScenarioBuilder {
        ScenarioBuilder {
            name: name.into(),
            description: None,
            prefix: None,
            site_packages: None,
            python_tag: None,
            volatile: Vec::new(),
            packages: Vec::new(),
            activities: Vec::new(),
            initial_scripts: Vec::new(),
            strategies: Vec::new(),
            last_is_package: true,
            misuse: None,
        }
    }
}

impl ScenarioBuilder {
    /// What the scenario reproduces (`description`).
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = Some(text.into());
        self
    }

    /// The prefix as the real tools print it (`prefix`, default `/sage/local`).
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Some(prefix.into());
        self
    }

    /// site-packages relative to the prefix (`site-packages`, default
    /// `lib/python3.9/site-packages`).
    pub fn site_packages(mut self, dir: impl Into<String>) -> Self {
        self.site_packages = Some(dir.into());
        self
    }

    /// The bytecode tag (`python-tag`, default `cpython-39`).
    pub fn python_tag(mut self, tag: impl Into<String>) -> Self {
        self.python_tag = Some(tag.into());
        self
    }

    /// A glob of prefix paths whose final state may differ between orders
    /// (`volatile`).
    pub fn volatile(mut self, pattern: impl Into<String>) -> Self {
        self.volatile.push(pattern.into());
        self
    }

    /// Starts a package to install (`[[package]]`).
    pub fn package(self, name: impl Into<String>) -> Self {
        self.start_package(name.into(), false)
    }

    /// Starts a package already in the prefix before any job starts
    /// (`[[initial]]`): laid down serially by pip on every fresh filesystem.
    pub fn initial(self, name: impl Into<String>) -> Self {
        self.start_package(name.into(), true)
    }

    fn start_package(mut self, name: String, initial: bool) -> Self {
        self.packages.push(PackageSpec {
            initial,
            name,
            version: None,
            compile: None,
            after: Vec::new(),
            sources: Vec::new(),
            files: Vec::new(),
        });
        self.last_is_package = true;
        self
    }

    fn with_package(mut self, call: &str, f: impl FnOnce(&mut PackageSpec)) -> Self {
        match self.packages.last_mut() {
            Some(p) => f(p),
            None => {
                self.misuse.get_or_insert_with(|| {
                    format!("{call} needs a package: call .package(NAME) or .initial(NAME) first")
                });
            }
        }
        self
    }

    /// The current package's version (`version`).
    pub fn version(self, version: impl Into<String>) -> Self {
        let version = version.into();
        self.with_package(".version()", |p| p.version = Some(version))
    }

    /// Whether the current package's installer byte-compiles (`compile`,
    /// default true, as pip does).
    pub fn compile(self, compile: bool) -> Self {
        self.with_package(".compile()", |p| p.compile = Some(compile))
    }

    /// A job the current package or activity waits for (`after`: make's
    /// dependency edges).
    pub fn after(mut self, job: impl Into<String>) -> Self {
        let job = job.into();
        if self.last_is_package {
            return self.with_package(".after()", |p| p.after.push(job));
        }
        if let Some(a) = self.activities.last_mut() {
            a.after.push(job);
        }
        self
    }

    /// A regular file of the current package holding `text`
    /// (`[[package.file]]` with `text`); `path` is relative to
    /// site-packages, like the TOML's (`../../../bin/tool` reaches the
    /// prefix's `bin/`).
    pub fn file(self, path: impl Into<String>, text: impl Into<String>) -> Self {
        let (path, text) = (path.into(), text.into());
        let call = format!(".file({path:?})");
        self.with_file(
            call,
            vec![("path", toml_str(&path)), ("text", toml_str(&text))],
        )
    }

    /// A regular file of the current package of `size` bytes, made
    /// deterministically from its path (`[[package.file]]` with `size`).
    pub fn file_of_size(self, path: impl Into<String>, size: u64) -> Self {
        let path = path.into();
        let call = format!(".file_of_size({path:?}, {size})");
        self.with_file(
            call,
            vec![("path", toml_str(&path)), ("size", size.to_string())],
        )
    }

    /// An empty directory of the current package (`kind = "dir"`).
    pub fn dir(self, path: impl Into<String>) -> Self {
        let path = path.into();
        let call = format!(".dir({path:?})");
        self.with_file(
            call,
            vec![("path", toml_str(&path)), ("kind", toml_str("dir"))],
        )
    }

    /// A symlink of the current package (`kind = "symlink"`).
    pub fn symlink(self, path: impl Into<String>, target: impl Into<String>) -> Self {
        let (path, target) = (path.into(), target.into());
        let call = format!(".symlink({path:?}, {target:?})");
        self.with_file(
            call,
            vec![
                ("path", toml_str(&path)),
                ("kind", toml_str("symlink")),
                ("target", toml_str(&target)),
            ],
        )
    }

    /// The permission bits of the file, directory or symlink added last
    /// (`mode`, default 0o644, 0o755 for directories).
    pub fn mode(mut self, mode: u32) -> Self {
        match self.packages.last_mut().and_then(|p| p.files.last_mut()) {
            Some(f) => {
                f.call.push_str(&format!(".mode({mode:#o})"));
                f.fields.push(("mode", mode.to_string()));
            }
            None => {
                self.misuse
                    .get_or_insert_with(|| ".mode() needs a file: call .file() first".into());
            }
        }
        self
    }

    fn with_file(self, call: String, fields: Vec<(&'static str, String)>) -> Self {
        let what = call.clone();
        self.with_package(&what, |p| p.files.push(FileSpec { call, fields }))
    }

    /// The current package's payload from a wheel RECORD file (`record`).
    pub fn record(self, path: impl AsRef<Path>) -> Self {
        let path = path.as_ref().to_path_buf();
        self.with_package(".record()", |p| p.sources.push(("record", path)))
    }

    /// The current package's payload from a wheel (`wheel`): the real
    /// member bytes, in RECORD order.
    pub fn wheel(self, path: impl AsRef<Path>) -> Self {
        let path = path.as_ref().to_path_buf();
        self.with_package(".wheel()", |p| p.sources.push(("wheel", path)))
    }

    /// The current package's payload from a payload manifest TOML (`payload`).
    pub fn payload(self, path: impl AsRef<Path>) -> Self {
        let path = path.as_ref().to_path_buf();
        self.with_package(".payload()", |p| p.sources.push(("payload", path)))
    }

    /// A concurrent Python process importing `modules` in order
    /// (`[[activity]]` with `kind = "import"`), named `name`.
    pub fn import<M: Into<String>>(
        mut self,
        name: impl Into<String>,
        modules: impl IntoIterator<Item = M>,
    ) -> Self {
        self.activities.push(ActivitySpec {
            name: name.into(),
            modules: modules.into_iter().map(Into::into).collect(),
            after: Vec::new(),
            script: None,
        });
        self.last_is_package = false;
        self
    }

    /// An installer or consumer composed of the kit's primitives
    /// (`[[activity]]` with `kind = "script"`, see [`crate::kit`]), named
    /// `name`.
    pub fn script(mut self, name: impl Into<String>, script: crate::kit::Script) -> Self {
        self.activities.push(ActivitySpec {
            name: name.into(),
            modules: Vec::new(),
            after: Vec::new(),
            script: Some(std::sync::Arc::new(script)),
        });
        self.last_is_package = false;
        self
    }

    /// A script that ran to completion before any job starts (an
    /// `[[activity]]` with `initial = true`): what an earlier install left
    /// in the prefix, laid down serially on every fresh filesystem after
    /// the initial packages.
    pub fn initial_script(mut self, name: impl Into<String>, script: crate::kit::Script) -> Self {
        self.initial_scripts
            .push((name.into(), std::sync::Arc::new(script)));
        self.last_is_package = false;
        self
    }

    /// A strategy the scenario declares (`[[strategy]]`), so that it can be
    /// named like a built-in one (`Check::new(s).strategy("mine")`).
    pub fn strategy(mut self, strategy: DeclaredStrategy) -> Self {
        self.strategies.push(strategy);
        self
    }

    /// Checks everything a scenario file is checked for and builds the
    /// scenario. Errors are one line naming the builder call and field.
    pub fn build(self) -> Result<Scenario> {
        let label = format!("scenario {:?} in code", self.name);
        if let Some(m) = &self.misuse {
            return Err(Error::Usage(format!("{label}: {m}")));
        }
        let doc = self.document();
        let inputs = Inputs(
            self.packages
                .iter()
                .flat_map(|p| p.sources.iter().map(|(_, path)| path.clone()))
                .collect(),
        );
        let mut scenario = parse(&label, doc.text.as_bytes(), &inputs)
            .map_err(|e| doc.locate(e, &label, &inputs))?;
        // Scripts are not in the document: put them back in call order.
        let mut imports = std::mem::take(&mut scenario.activities).into_iter();
        for a in &self.activities {
            let activity = match &a.script {
                Some(script) => super::Activity::Script {
                    name: a.name.clone(),
                    script: script.clone(),
                    after: a.after.clone(),
                },
                None => imports.next().expect("one parsed activity per import"),
            };
            scenario.activities.push(activity);
        }
        for (name, script) in &self.initial_scripts {
            scenario.initial_activities.push(super::Activity::Script {
                name: name.clone(),
                script: script.clone(),
                after: Vec::new(),
            });
        }
        for s in &self.strategies {
            let taken = scenario
                .strategies
                .iter()
                .any(|d| d.name == s.name)
                .then_some(());
            if taken.is_some() {
                return Err(Error::input(
                    &label,
                    0,
                    "strategy",
                    format!("strategy {:?} is declared twice", s.name),
                ));
            }
            scenario.strategies.push(s.clone());
        }
        scenario.check()?;
        Ok(scenario)
    }

    /// The scenario document these calls describe, with what each line
    /// came from.
    fn document(&self) -> Document {
        let mut d = Document::default();
        d.line(
            format!("name = {}", toml_str(&self.name)),
            "the name".into(),
        );
        let top = [
            ("description", &self.description, ".description()"),
            ("prefix", &self.prefix, ".prefix()"),
            ("site-packages", &self.site_packages, ".site_packages()"),
            ("python-tag", &self.python_tag, ".python_tag()"),
        ];
        for (key, value, call) in top {
            if let Some(v) = value {
                d.line(format!("{key} = {}", toml_str(v)), call.into());
            }
        }
        for v in &self.volatile {
            d.line(
                format!("volatile = [{}]", toml_str(v)),
                format!(".volatile({v:?})"),
            );
        }
        // `volatile` may appear once in TOML: fold repeated calls into one
        // array, keeping a line per call for errors.
        if self.volatile.len() > 1 {
            d.fold_volatile();
        }
        let mut input = 0;
        for p in &self.packages {
            let table = if p.initial { "initial" } else { "package" };
            let what = format!("{table} {:?}", p.name);
            d.line(format!("[[{table}]]"), what.clone());
            d.line(format!("name = {}", toml_str(&p.name)), what.clone());
            if let Some(v) = &p.version {
                d.line(
                    format!("version = {}", toml_str(v)),
                    format!("{what} .version()"),
                );
            }
            if let Some(c) = p.compile {
                d.line(format!("compile = {c}"), format!("{what} .compile()"));
            }
            if !p.after.is_empty() {
                let list: Vec<String> = p.after.iter().map(|a| toml_str(a)).collect();
                d.line(
                    format!("after = [{}]", list.join(", ")),
                    format!("{what} .after()"),
                );
            }
            for (key, path) in &p.sources {
                d.line(
                    format!("{key} = {}", toml_str(&Inputs::name(input))),
                    format!("{what} .{key}({:?})", path.display().to_string()),
                );
                input += 1;
            }
            for f in &p.files {
                let call = format!("{what} {}", f.call);
                d.line(format!("[[{table}.file]]"), call.clone());
                for (key, value) in &f.fields {
                    d.line(format!("{key} = {value}"), call.clone());
                }
            }
        }
        for a in self.activities.iter().filter(|a| a.script.is_none()) {
            let what = format!(".import({:?})", a.name);
            d.line("[[activity]]".into(), what.clone());
            d.line(format!("name = {}", toml_str(&a.name)), what.clone());
            d.line("kind = \"import\"".into(), what.clone());
            let modules: Vec<String> = a.modules.iter().map(|m| toml_str(m)).collect();
            d.line(format!("modules = [{}]", modules.join(", ")), what.clone());
            if !a.after.is_empty() {
                let list: Vec<String> = a.after.iter().map(|x| toml_str(x)).collect();
                d.line(
                    format!("after = [{}]", list.join(", ")),
                    format!("{what} .after()"),
                );
            }
        }
        d
    }
}

/// A generated scenario document and, for each line, the call it came from.
#[derive(Debug, Default)]
struct Document {
    text: String,
    calls: Vec<String>,
}

impl Document {
    fn line(&mut self, text: String, call: String) {
        self.text.push_str(&text);
        self.text.push('\n');
        self.calls.push(call);
    }

    /// Rewrites the `volatile = [x]` lines into one array spread over lines.
    fn fold_volatile(&mut self) {
        let lines: Vec<String> = self.text.lines().map(str::to_string).collect();
        let mut text = String::new();
        let mut first = true;
        let count = lines
            .iter()
            .filter(|l| l.starts_with("volatile = ["))
            .count();
        let mut seen = 0;
        for l in &lines {
            match l.strip_prefix("volatile = [") {
                Some(rest) => {
                    seen += 1;
                    let item = rest.trim_end_matches(']');
                    let open = if first { "volatile = [" } else { "  " };
                    let close = if seen == count { "]" } else { "," };
                    text.push_str(&format!("{open}{item}{close}\n"));
                    first = false;
                }
                None => {
                    text.push_str(l);
                    text.push('\n');
                }
            }
        }
        self.text = text;
    }

    /// Turns an error about line N of the document into one about the call
    /// that wrote line N; errors about other files pass unchanged.
    fn locate(&self, err: Error, label: &str, inputs: &Inputs) -> Error {
        match err {
            Error::Input {
                file,
                line,
                field,
                message,
            } if file == label => {
                let call = line
                    .checked_sub(1)
                    .and_then(|i| self.calls.get(i))
                    .map(|c| format!("{label}, {c}"))
                    .unwrap_or_else(|| label.to_string());
                Error::Input {
                    file: call,
                    line: 0,
                    field,
                    message: inputs.unname(&message),
                }
            }
            other => other,
        }
    }
}

/// The files `record`, `wheel` and `payload` name, under stand-in names
/// the document can refer to whatever their real path.
struct Inputs(Vec<PathBuf>);

impl Inputs {
    fn name(i: usize) -> String {
        format!("builder-input-{i}")
    }

    fn path(&self, rel: &str) -> Option<&PathBuf> {
        let i: usize = rel.strip_prefix("builder-input-")?.parse().ok()?;
        self.0.get(i)
    }

    /// `message` with the stand-in names replaced by the real paths.
    fn unname(&self, message: &str) -> String {
        let mut out = message.to_string();
        for (i, p) in self.0.iter().enumerate().rev() {
            out = out.replace(&Inputs::name(i), &p.display().to_string());
        }
        out
    }
}

impl FileSource for Inputs {
    fn read(&self, rel: &str) -> std::io::Result<Vec<u8>> {
        match self.path(rel) {
            Some(p) => std::fs::read(p),
            None => Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                rel.to_string(),
            )),
        }
    }

    fn resolve(&self, rel: &str) -> PathBuf {
        self.path(rel)
            .cloned()
            .unwrap_or_else(|| PathBuf::from(rel))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misuse_is_one_line() {
        let e = Scenario::builder("x").file("a.py", "").build().unwrap_err();
        assert_eq!(
            e.to_string(),
            "scenario \"x\" in code: .file(\"a.py\") needs a package: call .package(NAME) or .initial(NAME) first"
        );
    }

    #[test]
    fn repeated_volatile_calls_fold_into_one_array() {
        let s = Scenario::builder("v")
            .volatile("**/a")
            .volatile("**/b")
            .package("p")
            .file("p.py", "")
            .build()
            .unwrap();
        assert_eq!(s.volatile.len(), 2);
    }
}
