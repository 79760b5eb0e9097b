//! What pip 23.2.1 reads from an installed distribution to uninstall it,
//! and how it turns that into the paths it moves aside: the `METADATA`
//! fields that name it, the `RECORD` entries, the `.pyc`/`.pyo` it adds
//! (`req_uninstall.py`: `uninstallation_paths`, `UninstallPathSet.add`),
//! and `compact`. Pure functions; [`super::PipUninstall`] does the reads.

use std::sync::Arc;

use crate::fs::split_parent;

/// A `METADATA` header (`Name`, `Version`): the first line `Field: value`
/// before the blank line that ends the headers.
pub fn metadata_field(metadata: &[u8], field: &str) -> Option<String> {
    let text = String::from_utf8_lossy(metadata);
    for line in text.lines() {
        if line.is_empty() {
            break;
        }
        if let Some((key, value)) = line.split_once(':') {
            if key.eq_ignore_ascii_case(field) {
                return Some(value.trim().to_string());
            }
        }
    }
    None
}

/// PEP 503's normalized name: lowercase, runs of `-`, `_` and `.` as one
/// `-` (pip's `canonicalize_name`).
pub fn canonical_name(name: &str) -> String {
    let mut out = String::new();
    let mut separator = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            separator = true;
            continue;
        }
        if separator && !out.is_empty() {
            out.push('-');
        }
        separator = false;
        out.extend(c.to_lowercase());
    }
    out
}

/// The first field of each line of a `RECORD` (CSV; a quoted field may
/// hold commas and doubled quotes).
pub fn record_entries(record: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(record);
    let mut entries = Vec::new();
    for line in text.lines() {
        let entry = match line.strip_prefix('"') {
            Some(rest) => {
                let mut field = String::new();
                let mut chars = rest.chars().peekable();
                while let Some(c) = chars.next() {
                    match c {
                        '"' if chars.peek() == Some(&'"') => {
                            chars.next();
                            field.push('"');
                        }
                        '"' => break,
                        c => field.push(c),
                    }
                }
                field
            }
            None => line.split(',').next().unwrap_or("").to_string(),
        };
        if !entry.is_empty() {
            entries.push(entry);
        }
    }
    entries
}

/// The path of a `RECORD` entry, relative to the prefix root: pip joins it
/// to the distribution's location (`site`) and `..` climbs out of it (a
/// console script's `../../../bin/black`). The model's pip writes its
/// `RECORD` relative to the prefix root instead (`job/pip.rs`, pinned
/// byte-for-byte by the snapshots); an entry already under `site/` is taken
/// as such.
pub fn resolve_entry(site: &str, entry: &str) -> Arc<str> {
    if entry.starts_with(&format!("{site}/")) {
        return entry.into();
    }
    let mut parts: Vec<&str> = site.split('/').filter(|p| !p.is_empty()).collect();
    for part in entry.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/").into()
}

/// `uninstallation_paths`: each entry, and for a `.py` its `.pyc` and
/// `.pyo` siblings, each path once, in order.
pub fn uninstallation_paths(site: &str, entries: &[String]) -> Vec<Arc<str>> {
    let mut paths: Vec<Arc<str>> = Vec::new();
    let mut push = |p: Arc<str>| {
        if !paths.contains(&p) {
            paths.push(p);
        }
    };
    for entry in entries {
        let path = resolve_entry(site, entry);
        push(path.clone());
        if let Some(stem) = path.strip_suffix(".py") {
            push(format!("{stem}.pyc").into());
            push(format!("{stem}.pyo").into());
        }
    }
    paths
}

/// `importlib.util.cache_from_source`: `dir/__pycache__/stem.TAG.pyc`.
pub fn cache_from_source(source: &str, python_tag: &str) -> Arc<str> {
    let (dir, name) = split_parent(source);
    let stem = name.strip_suffix(".py").unwrap_or(name);
    match dir {
        "" => format!("__pycache__/{stem}.{python_tag}.pyc").into(),
        d => format!("{d}/__pycache__/{stem}.{python_tag}.pyc").into(),
    }
}

/// The directories `compress_for_rename` walks: the parents of `paths`,
/// shortest first (ties by name; pip's order among equal lengths is a
/// set's, and cannot change which directories are taken whole).
pub fn walk_roots(paths: &[Arc<str>]) -> Vec<Arc<str>> {
    let mut roots: Vec<Arc<str>> = paths.iter().map(|p| split_parent(p).0.into()).collect();
    roots.sort_by(|a: &Arc<str>, b| a.len().cmp(&b.len()).then(a.cmp(b)));
    roots.dedup();
    roots
}

/// `compact`: leaves out every path under another one of the set (a
/// directory is written with a trailing `/`), sorted as pip sorts them.
pub fn compact(paths: &[Arc<str>]) -> Vec<Arc<str>> {
    let mut by_length: Vec<&Arc<str>> = paths.iter().collect();
    by_length.sort_by(|a, b| a.len().cmp(&b.len()).then(a.cmp(b)));
    let mut short: Vec<Arc<str>> = Vec::new();
    for path in by_length {
        let covered = short.iter().any(|s| {
            let base = s.trim_end_matches('/');
            path.starts_with(base) && path.as_bytes().get(base.len()) == Some(&b'/')
        });
        if !covered && !short.contains(path) {
            short.push(path.clone());
        }
    }
    short.sort();
    short
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fields pip reads, the name it compares, the entries it joins.
    #[test]
    fn reads_the_fields_and_entries_as_pip_does() {
        let metadata = b"Metadata-Version: 2.1\nName: idna\nVersion: 3.7\n\nName: body\n";
        assert_eq!(metadata_field(metadata, "name").as_deref(), Some("idna"));
        assert_eq!(metadata_field(metadata, "Version").as_deref(), Some("3.7"));
        assert_eq!(metadata_field(b"\nName: x\n", "Name"), None);
        assert_eq!(canonical_name("Foo__Bar.baz"), "foo-bar-baz");
        assert_eq!(
            record_entries(b"idna/core.py,sha256=x,1\n\"a,b.py\",,\nRECORD,,\n"),
            ["idna/core.py", "a,b.py", "RECORD"]
        );
        let site = "lib/python3.11/site-packages";
        assert_eq!(&*resolve_entry(site, "../../../bin/black"), "bin/black");
        assert_eq!(
            &*resolve_entry(site, "lib/python3.11/site-packages/idna/core.py"),
            "lib/python3.11/site-packages/idna/core.py"
        );
        assert_eq!(
            uninstallation_paths("sp", &["a/m.py".into(), "a/x.txt".into()])
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>(),
            ["sp/a/m.py", "sp/a/m.pyc", "sp/a/m.pyo", "sp/a/x.txt"]
        );
        assert_eq!(
            &*cache_from_source("sp/a/m.py", "cpython-311"),
            "sp/a/__pycache__/m.cpython-311.pyc"
        );
    }

    /// `compact` keeps the shortest covering paths, a `-` sorting before
    /// the `/` of a sibling directory as in pip (the `.dist-info` first).
    #[test]
    fn compact_keeps_covering_paths_in_pips_order() {
        let paths: Vec<Arc<str>> = ["sp/idna/", "sp/idna/core.py", "sp/idna-3.7.dist-info/"]
            .into_iter()
            .map(Arc::from)
            .collect();
        assert_eq!(
            compact(&paths)
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>(),
            ["sp/idna-3.7.dist-info/", "sp/idna/"]
        );
        assert_eq!(
            walk_roots(&["sp/b/x".into(), "sp/a/y".into(), "sp/a/z/w".into()])
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>(),
            ["sp/a", "sp/b", "sp/a/z"]
        );
    }
}
