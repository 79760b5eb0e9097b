//! Reading a real directory into a [`Tree`]: every path below the root,
//! with kind, permission bits, size, SHA-256 of the content, and symlink
//! targets. Modification times are not part of a tree.

use std::path::Path;

use super::GateError;
use crate::Tree;

/// The tree under `root` (the root itself is not an entry): the same walk
/// RealFs uses for its sandbox.
pub fn read_tree(root: &Path) -> Result<Tree, GateError> {
    crate::fs::host_tree(root).map_err(|e| GateError::os(&root.display().to_string(), &e))
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::os::unix::fs::PermissionsExt;

    use super::*;
    use crate::content::Digest;

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
