//! Payload entries and payload manifests (`[[file]]` lists in TOML).

use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;
use toml::Spanned;

use super::allowance::PackageAllowance;
use super::entry_points::{parse_entry, EntryPoint};
use super::line_index::LineIndex;
use super::toml_format::toml_error;
use super::Package;
use crate::content::Blob;
use crate::error::{Error, Result};
use crate::fs::normalize_relative;

pub use crate::limits::{MAX_FILE_SIZE, MAX_PACKAGE_SIZE};

/// What a payload entry is.
#[derive(Debug, Clone)]
pub enum PayloadKind {
    /// A regular file with these bytes.
    File(Arc<Blob>),
    /// An (empty) directory.
    Dir,
    /// A symlink to this target.
    Symlink(Arc<str>),
}

/// One thing a package puts in the prefix.
#[derive(Debug, Clone)]
pub struct PayloadEntry {
    /// Path relative to the prefix root, normalized.
    pub path: Arc<str>,
    /// Kind and content.
    pub kind: PayloadKind,
    /// Permission bits.
    pub mode: u32,
}

impl PayloadEntry {
    /// True for an executable file.
    pub fn is_executable(&self) -> bool {
        matches!(self.kind, PayloadKind::File(_)) && self.mode & 0o111 != 0
    }
}

/// One `[[file]]` of a payload manifest or `[[package.file]]` of a scenario.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFile {
    pub path: Spanned<String>,
    #[serde(default)]
    pub kind: Option<Spanned<String>>,
    #[serde(default)]
    pub size: Option<Spanned<u64>>,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub sha256: Option<String>,
    #[serde(default)]
    pub mode: Option<Spanned<u32>>,
    #[serde(default)]
    pub target: Option<Spanned<String>>,
}

/// A payload manifest file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPayload {
    name: String,
    #[serde(default)]
    version: String,
    #[serde(default = "default_true")]
    compile: bool,
    #[serde(default, rename = "file")]
    files: Vec<RawFile>,
    /// Console scripts pip generates, as `entry_points.txt` lines.
    #[serde(default)]
    scripts: Vec<Spanned<String>>,
}

fn default_true() -> bool {
    true
}

/// Converts raw `[[file]]` tables into payload entries. Paths are relative to
/// `site_packages` and must stay inside the prefix.
pub(crate) fn convert_files(
    file: &str,
    lines: &LineIndex,
    raw: Vec<RawFile>,
    site_packages: &str,
    allowance: &PackageAllowance,
) -> Result<Vec<PayloadEntry>> {
    if let Some(over) = allowance.over_entries(raw.len()) {
        let line = raw
            .get(allowance.entries)
            .map_or(0, |f| lines.line(f.path.span().start));
        return Err(Error::input(file, line, "file", over));
    }
    let mut out: Vec<PayloadEntry> = Vec::with_capacity(raw.len());
    // Check the declared sizes before making any bytes, so a hostile file
    // cannot make us generate a gigabyte before it is refused.
    let mut declared: u64 = 0;
    for f in &raw {
        // A size is declared; inline text counts its bytes.
        let (size, offset, field) = match (&f.size, &f.text) {
            (Some(s), _) => (*s.get_ref(), s.span().start, "size"),
            (None, Some(t)) => (t.len() as u64, f.path.span().start, "text"),
            (None, None) => continue,
        };
        declared = declared.saturating_add(size);
        let over = allowance.over_bytes(declared);
        if size > MAX_FILE_SIZE || over.is_some() {
            let what = if size > MAX_FILE_SIZE {
                format!("declared size {size} exceeds the limit of {MAX_FILE_SIZE} bytes")
            } else {
                over.unwrap_or_default()
            };
            return Err(Error::input(file, lines.line(offset), field, what));
        }
    }
    let mut total: u64 = 0;
    let mut seen = std::collections::BTreeSet::new();
    for f in raw {
        let line = lines.line(f.path.span().start);
        let path = normalize_relative(site_packages, f.path.get_ref())
            .map_err(|e| Error::input(file, line, "path", e.to_string()))?;
        if !seen.insert(path.clone()) {
            return Err(Error::input(
                file,
                line,
                "path",
                format!("duplicate path {:?}", f.path.get_ref()),
            ));
        }
        let kind_name =
            f.kind
                .as_ref()
                .map(|k| k.get_ref().as_str())
                .unwrap_or(if f.target.is_some() {
                    "symlink"
                } else {
                    "file"
                });
        let kind_line = f
            .kind
            .as_ref()
            .map(|k| lines.line(k.span().start))
            .unwrap_or(line);
        let mode_default = if kind_name == "dir" { 0o755 } else { 0o644 };
        let mode = match &f.mode {
            Some(m) if *m.get_ref() > 0o7777 => {
                return Err(Error::input(
                    file,
                    lines.line(m.span().start),
                    "mode",
                    format!("mode {:#o} is out of range", m.get_ref()),
                ))
            }
            Some(m) => *m.get_ref(),
            None => mode_default,
        };
        let kind = match kind_name {
            "file" => {
                let blob = match (&f.text, &f.size) {
                    (Some(_), Some(s)) => {
                        return Err(Error::input(
                            file,
                            lines.line(s.span().start),
                            "size",
                            "give either text or size, not both",
                        ))
                    }
                    (Some(text), None) => Blob::new(text.as_bytes().to_vec()),
                    (None, size) => {
                        let (size, size_line) = size
                            .as_ref()
                            .map(|s| (*s.get_ref(), lines.line(s.span().start)))
                            .unwrap_or((0, line));
                        if size > MAX_FILE_SIZE {
                            return Err(Error::input(file, size_line, "size", format!("declared size {size} exceeds the limit of {MAX_FILE_SIZE} bytes")));
                        }
                        total += size;
                        if total > MAX_PACKAGE_SIZE {
                            return Err(Error::input(
                                file,
                                size_line,
                                "size",
                                format!("payload exceeds the limit of {MAX_PACKAGE_SIZE} bytes"),
                            ));
                        }
                        let seed = f.sha256.clone().unwrap_or_else(|| path.clone());
                        Blob::synthetic(seed.as_bytes(), size)
                    }
                };
                PayloadKind::File(blob)
            }
            "dir" => PayloadKind::Dir,
            "symlink" => {
                let Some(target) = &f.target else {
                    return Err(Error::input(
                        file,
                        kind_line,
                        "target",
                        "a symlink needs a target",
                    ));
                };
                let t = target.get_ref();
                let tline = lines.line(target.span().start);
                if t.is_empty() || t.contains('\0') {
                    return Err(Error::input(
                        file,
                        tline,
                        "target",
                        "symlink target is empty or contains NUL",
                    ));
                }
                if let Some(c) = crate::fs::control_character(t) {
                    return Err(Error::input(
                        file,
                        tline,
                        "target",
                        format!("symlink target {t:?} holds the control character {c:?}"),
                    ));
                }
                PayloadKind::Symlink(t.as_str().into())
            }
            other => {
                return Err(Error::input(
                    file,
                    kind_line,
                    "kind",
                    format!("unknown kind {other:?}: expected file, dir or symlink"),
                ))
            }
        };
        out.push(PayloadEntry {
            path: path.into(),
            kind,
            mode,
        });
    }
    check_payload_shape(file, &out)?;
    Ok(out)
}

/// Parses a `scripts` array (`"NAME = MODULE:ATTR"` each) of `file`.
pub(crate) fn convert_scripts(
    file: &str,
    lines: &LineIndex,
    raw: &[Spanned<String>],
) -> Result<Vec<EntryPoint>> {
    raw.iter()
        .map(|s| parse_entry(file, lines.line(s.span().start), s.get_ref()))
        .collect()
}

/// Rejects payloads where a file or symlink is also used as a directory.
pub(crate) fn check_payload_shape(file: &str, entries: &[PayloadEntry]) -> Result<()> {
    let non_dirs: std::collections::BTreeSet<&str> = entries
        .iter()
        .filter(|e| !matches!(e.kind, PayloadKind::Dir))
        .map(|e| &*e.path)
        .collect();
    for e in entries {
        let mut p: &str = &e.path;
        while let Some(i) = p.rfind('/') {
            p = &p[..i];
            if non_dirs.contains(p) {
                return Err(Error::input(
                    file,
                    0,
                    "path",
                    format!(
                        "{:?} needs {p:?} to be a directory, but the payload makes it a file",
                        e.path
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Loads a payload manifest (`name`, `version`, `[[file]]`).
pub fn load_payload_toml(path: &Path, site_packages: &str) -> Result<Package> {
    load_payload_toml_within(path, site_packages, &PackageAllowance::standalone())
}

/// [`load_payload_toml`] for a package that may hold at most `allowance`.
pub(crate) fn load_payload_toml_within(
    path: &Path,
    site_packages: &str,
    allowance: &PackageAllowance,
) -> Result<Package> {
    let shown = path.display().to_string();
    let bytes = crate::limits::read_input(path).map_err(|e| Error::io(&shown, &e))?;
    let src = String::from_utf8(bytes).map_err(|e| {
        let line = 1 + e.as_bytes()[..e.utf8_error().valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        Error::input(&shown, line, "encoding", "file is not valid UTF-8")
    })?;
    let raw: RawPayload = toml::from_str(&src).map_err(|e| toml_error(&shown, &src, &e))?;
    let lines = LineIndex::new(&src);
    let scripts = convert_scripts(&shown, &lines, &raw.scripts)?;
    let payload = convert_files(&shown, &lines, raw.files, site_packages, allowance)?;
    Ok(Package {
        name: raw.name,
        version: raw.version,
        payload,
        after: Vec::new(),
        compile: raw.compile,
        scripts,
    })
}
