//! Writes recorded processes as a scenario with one trace activity each.

use std::fmt::Write as _;

use super::op_line::render_op;
use super::strace::StraceLog;
use crate::scenario::toml_quote::toml_str;
use crate::scenario::{DEFAULT_PYTHON_TAG, DEFAULT_SITE_PACKAGES};

/// Quotes an op line: a literal string when it can be one, else a basic string.
fn op_str(line: &str) -> String {
    if line.contains('\'') || line.chars().any(|c| c.is_control()) {
        toml_str(line)
    } else {
        format!("'{line}'")
    }
}

/// site-packages relative to the prefix, judged from the recorded paths.
pub fn detect_site_packages(log: &StraceLog) -> String {
    log.processes
        .iter()
        .flat_map(|p| p.spec.ops.iter())
        .find_map(|r| {
            let path: &str = r.op.path();
            let i = path.find("site-packages")?;
            let end = i + "site-packages".len();
            (path.len() == end || path.as_bytes()[end] == b'/').then(|| path[..end].to_string())
        })
        .unwrap_or_else(|| DEFAULT_SITE_PACKAGES.to_string())
}

/// The bytecode tag (`cpython-39`), judged from recorded `.pyc` names.
pub fn detect_python_tag(log: &StraceLog) -> String {
    log.processes
        .iter()
        .flat_map(|p| p.spec.ops.iter())
        .find_map(|r| {
            let path: &str = r.op.path();
            let name = path.rsplit('/').next()?;
            let stem = name
                .split(".pyc")
                .next()
                .filter(|_| name.contains(".pyc"))?;
            let tag = stem.rsplit('.').next()?;
            (tag.starts_with("cpython-") && tag[8..].chars().all(|c| c.is_ascii_digit()))
                .then(|| tag.to_string())
        })
        .unwrap_or_else(|| DEFAULT_PYTHON_TAG.to_string())
}

/// The scenario: header, one `[[activity]] kind = "trace"` per process, then
/// one import activity per module in `imports`.
pub fn render(log: &StraceLog, name: &str, source: &str, imports: &[String]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Recorded by `prefixrace record` from {source}.");
    let _ = writeln!(out, "name = {}", toml_str(name));
    let _ = writeln!(
        out,
        "description = {}",
        toml_str(&format!("processes recorded from {source}"))
    );
    let _ = writeln!(out, "prefix = {}", toml_str(&log.prefix));
    let _ = writeln!(
        out,
        "site-packages = {}",
        toml_str(&detect_site_packages(log))
    );
    let _ = writeln!(out, "python-tag = {}", toml_str(&detect_python_tag(log)));
    for p in &log.processes {
        out.push_str("\n[[activity]]\n");
        let _ = writeln!(out, "name = {}", toml_str(&p.name));
        out.push_str("kind = \"trace\"\n");
        let _ = writeln!(out, "program = {}", toml_str(p.spec.program.name()));
        let argv: Vec<String> = p.spec.argv.iter().map(|a| toml_str(a)).collect();
        let _ = writeln!(out, "argv = [{}]", argv.join(", "));
        let _ = writeln!(out, "exit = {}", p.spec.exit);
        out.push_str("ops = [\n");
        for r in &p.spec.ops {
            let _ = writeln!(out, "  {},", op_str(&render_op(r)));
        }
        out.push_str("]\n");
    }
    push_imports(&mut out, imports);
    out
}

/// Appends one `kind = "import"` activity per module, named like
/// `explore --import` names them.
pub fn push_imports(out: &mut String, imports: &[String]) {
    for (i, m) in imports.iter().enumerate() {
        out.push_str("\n[[activity]]\n");
        let job = if imports.len() == 1 {
            format!("import-{}", m.to_lowercase())
        } else {
            format!("import-{}-{i}", m.to_lowercase())
        };
        let _ = writeln!(out, "name = {}", toml_str(&job));
        out.push_str("kind = \"import\"\n");
        let _ = writeln!(out, "modules = [{}]", toml_str(m));
    }
}
