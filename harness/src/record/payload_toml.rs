//! Writes a package as a payload manifest (`name`, `version`, `[[file]]`),
//! the format `scenario::load_payload_toml` reads.
//!
//! Small UTF-8 files keep their real bytes (`text`); others are written as
//! `size` and `sha256`, from which the loader makes stand-in bytes. Paths are
//! relative to site-packages, as in a RECORD. Entries keep their order.

use std::fmt::Write as _;

use crate::content::Digest;
use crate::scenario::toml_quote::toml_str;
use crate::scenario::{Package, PayloadEntry, PayloadKind};

/// Files up to this size that are valid UTF-8 keep their real bytes.
pub const MAX_TEXT: u64 = 2048;

/// `path` (relative to the prefix) made relative to `site_packages`, with
/// `..` components when it lies outside, as RECORD files write it.
pub fn relative_to(site_packages: &str, path: &str) -> String {
    if let Some(rest) = path
        .strip_prefix(site_packages)
        .and_then(|r| r.strip_prefix('/'))
    {
        return rest.to_string();
    }
    let depth = site_packages.split('/').filter(|c| !c.is_empty()).count();
    format!("{}{path}", "../".repeat(depth))
}

fn entry_toml(out: &mut String, e: &PayloadEntry, site_packages: &str, table: &str) {
    let _ = write!(out, "\n[[{table}]]\n");
    let _ = writeln!(
        out,
        "path = {}",
        toml_str(&relative_to(site_packages, &e.path))
    );
    match &e.kind {
        PayloadKind::File(blob) => {
            let text = std::str::from_utf8(blob.bytes())
                .ok()
                .filter(|_| blob.len() <= MAX_TEXT);
            match text {
                Some(t) => {
                    let _ = writeln!(out, "text = {}", toml_str(t));
                }
                None => {
                    let _ = writeln!(out, "size = {}", blob.len());
                    let _ = writeln!(out, "sha256 = \"{}\"", Digest::of(blob.bytes()).hex());
                }
            }
        }
        PayloadKind::Dir => out.push_str("kind = \"dir\"\n"),
        PayloadKind::Symlink(target) => {
            out.push_str("kind = \"symlink\"\n");
            let _ = writeln!(out, "target = {}", toml_str(target));
        }
    }
    let _ = writeln!(out, "mode = 0o{:o}", e.mode);
}

/// The console scripts of `package` as a `scripts` array, when it has any.
fn push_scripts(out: &mut String, package: &Package) {
    if package.scripts.is_empty() {
        return;
    }
    let lines: Vec<String> = package
        .scripts
        .iter()
        .map(|s| toml_str(&s.line()))
        .collect();
    let _ = writeln!(out, "scripts = [{}]", lines.join(", "));
}

/// The payload manifest of `package`; `source` is named in the header comment.
pub fn render(package: &Package, site_packages: &str, source: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Payload recorded by `prefixrace record` from {source}."
    );
    let _ = writeln!(
        out,
        "# Paths are relative to site-packages ({site_packages})."
    );
    let _ = writeln!(out, "name = {}", toml_str(&package.name));
    let _ = writeln!(out, "version = {}", toml_str(&package.version));
    if !package.compile {
        out.push_str("compile = false\n");
    }
    push_scripts(&mut out, package);
    for e in &package.payload {
        entry_toml(&mut out, e, site_packages, "file");
    }
    out
}

/// A scenario installing `package` (its files inline as `[[package.file]]`),
/// with one import activity per module in `imports`; `python_tag` is written
/// when it is not the default.
pub fn render_scenario(
    package: &Package,
    site_packages: &str,
    python_tag: Option<&str>,
    source: &str,
    name: &str,
    imports: &[String],
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Recorded by `prefixrace record` from {source}.");
    let _ = writeln!(out, "name = {}", toml_str(name));
    let _ = writeln!(
        out,
        "description = {}",
        toml_str(&format!("{} recorded from {source}", package.name))
    );
    let _ = writeln!(out, "site-packages = {}", toml_str(site_packages));
    if let Some(tag) = python_tag {
        let _ = writeln!(out, "python-tag = {}", toml_str(tag));
    }
    out.push_str("\n[[package]]\n");
    let _ = writeln!(out, "name = {}", toml_str(&package.name));
    let _ = writeln!(out, "version = {}", toml_str(&package.version));
    let _ = writeln!(out, "compile = {}", package.compile);
    push_scripts(&mut out, package);
    for e in &package.payload {
        entry_toml(&mut out, e, site_packages, "package.file");
    }
    super::scenario_toml::push_imports(&mut out, imports);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_outside_site_packages_climb() {
        let sp = "lib/python3.9/site-packages";
        assert_eq!(
            relative_to(sp, "lib/python3.9/site-packages/a/b.py"),
            "a/b.py"
        );
        assert_eq!(relative_to(sp, "bin/cython"), "../../../bin/cython");
    }
}
