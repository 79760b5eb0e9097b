//! Reading a real directory into a [`Tree`]: every path below the root,
//! with kind, permission bits, size, SHA-256 of the content, and symlink
//! targets. Modification times are not part of a tree.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use super::GateError;
use crate::content::Digest;
use crate::fs::Entry;
use crate::op::Kind;
use crate::Tree;

/// The tree under `root` (the root itself is not an entry).
pub fn read_tree(root: &Path) -> Result<Tree, GateError> {
    let mut tree = Tree::new();
    walk(root, "", &mut tree)?;
    Ok(tree)
}

fn walk(dir: &Path, rel: &str, tree: &mut Tree) -> Result<(), GateError> {
    let io = |p: &Path, e: std::io::Error| GateError::os(&p.display().to_string(), &e);
    let mut names: Vec<String> = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| io(dir, e))? {
        let name = entry.map_err(|e| io(dir, e))?.file_name();
        names.push(name.to_string_lossy().into_owned());
    }
    names.sort();
    for name in names {
        let path = dir.join(&name);
        let key = if rel.is_empty() {
            name.clone()
        } else {
            format!("{rel}/{name}")
        };
        let meta = fs::symlink_metadata(&path).map_err(|e| io(&path, e))?;
        let mode = meta.permissions().mode() & 0o7777;
        let t = meta.file_type();
        if t.is_dir() {
            tree.insert(key.clone(), Entry::dir(mode));
            walk(&path, &key, tree)?;
        } else if t.is_symlink() {
            let target = fs::read_link(&path).map_err(|e| io(&path, e))?;
            tree.insert(
                key,
                Entry {
                    kind: Kind::Symlink,
                    mode: 0o777,
                    size: 0,
                    digest: None,
                    target: Some(target.to_string_lossy().into_owned()),
                    bytecode_source: None,
                },
            );
        } else {
            let bytes = fs::read(&path).map_err(|e| io(&path, e))?;
            tree.insert(
                key,
                Entry {
                    kind: Kind::File,
                    mode,
                    size: bytes.len() as u64,
                    digest: Some(Digest::of(&bytes)),
                    target: None,
                    bytecode_source: None,
                },
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_kinds_modes_digests_and_targets() {
        let d = tempfile::tempdir().unwrap();
        fs::create_dir(d.path().join("a")).unwrap();
        fs::set_permissions(d.path().join("a"), fs::Permissions::from_mode(0o750)).unwrap();
        fs::write(d.path().join("a/f"), b"xyz").unwrap();
        std::os::unix::fs::symlink("a/f", d.path().join("l")).unwrap();
        let t = read_tree(d.path()).unwrap();
        let paths: Vec<&String> = t.iter().map(|(p, _)| p).collect();
        assert_eq!(paths, ["a", "a/f", "l"]);
        assert_eq!(t.get("a").unwrap().mode, 0o750);
        assert_eq!(t.get("a/f").unwrap().digest, Some(Digest::of(b"xyz")));
        assert_eq!(t.get("l").unwrap().target.as_deref(), Some("a/f"));
    }
}
