//! Installing one package the way pip does, and the floor that writes the
//! same tree with nothing else.
//!
//! pip (`--no-compile` off, the default) creates each file's directory with
//! `os.makedirs(exist_ok=True)`, opens the destination and writes the bytes in
//! place, sets the executable bits where the wheel has them, and then
//! byte-compiles: `py_compile` writes every `.pyc` to a temporary name next to
//! it and renames it over the final name (`importlib._bootstrap_external._write_atomic`).

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use super::payload_set::{SetPackage, TreeFile};
use crate::error::{Error, Result};

/// Writes `file` at `root/file.path` in place, creating its directory first.
fn write_in_place(root: &Path, file: &TreeFile) -> Result<()> {
    let path = root.join(&*file.path);
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(|e| Error::io(dir.display().to_string(), &e))?;
    }
    let mut out = File::create(&path).map_err(|e| Error::io(path.display().to_string(), &e))?;
    out.write_all(file.blob.bytes())
        .map_err(|e| Error::io(path.display().to_string(), &e))?;
    if file.mode != 0o644 {
        out.set_permissions(fs::Permissions::from_mode(file.mode))
            .map_err(|e| Error::io(path.display().to_string(), &e))?;
    }
    Ok(())
}

/// Writes `file` to a temporary name beside it, then renames it into place.
fn write_atomically(root: &Path, file: &TreeFile, writer_id: usize) -> Result<()> {
    let path = root.join(&*file.path);
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(|e| Error::io(dir.display().to_string(), &e))?;
    }
    let tmp = path.with_extension(format!("pyc.{writer_id}"));
    fs::write(&tmp, file.blob.bytes()).map_err(|e| Error::io(tmp.display().to_string(), &e))?;
    fs::rename(&tmp, &path).map_err(|e| Error::io(path.display().to_string(), &e))
}

/// Installs `package` under `root` like `pip install --prefix`: payload in
/// RECORD order, written in place, then bytecode through temp + rename.
/// `writer_id` keeps the temporary names of concurrent installers apart.
pub fn pip_install(root: &Path, package: &SetPackage, writer_id: usize) -> Result<()> {
    for file in &package.files {
        write_in_place(root, file)?;
    }
    for pyc in &package.bytecode {
        write_atomically(root, pyc, writer_id)?;
    }
    Ok(())
}

/// The floor: the same files with the same bytes and modes, written in place
/// by a plain loop (no temporary names, no staging), creating each directory
/// only the first time the loop needs it.
pub fn plain_write(root: &Path, package: &SetPackage) -> Result<()> {
    let mut made: HashSet<&str> = HashSet::new();
    for file in package.tree() {
        let (dir, _) = crate::fs::split_parent(&file.path);
        if made.insert(dir) {
            let dir = root.join(dir);
            fs::create_dir_all(&dir).map_err(|e| Error::io(dir.display().to_string(), &e))?;
        }
        let path = root.join(&*file.path);
        let mut out = File::create(&path).map_err(|e| Error::io(path.display().to_string(), &e))?;
        out.write_all(file.blob.bytes())
            .map_err(|e| Error::io(path.display().to_string(), &e))?;
        if file.mode != 0o644 {
            out.set_permissions(fs::Permissions::from_mode(file.mode))
                .map_err(|e| Error::io(path.display().to_string(), &e))?;
        }
    }
    Ok(())
}
