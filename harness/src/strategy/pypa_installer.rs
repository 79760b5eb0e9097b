//! `installer`: pypa/installer straight into the prefix, written on the
//! kit ([`crate::kit`]).
//!
//! `python -m installer` 1.1.0, recorded under strace on this machine
//! (`tests/pins_installer.rs` compares the calls), writes each file of the
//! wheel in order, RECORD last, the same way: `stat` the target and refuse
//! it if it exists (`FileExistsError: File already exists: PATH`), `stat`
//! its directory and make it with pathlib's `mkdir(parents=True,
//! exist_ok=True)` when missing, then `open(O_WRONLY|O_CREAT|O_TRUNC)`,
//! write and close; an executable is then `chmod`ed. It writes no
//! INSTALLER and takes no lock. (Its console scripts are not modelled yet.)

use std::sync::Arc;

use super::{InstallContext, Strategy};
use crate::error::Result;
use crate::fs::parent_of;
use crate::job::{Job, ScriptJob};
use crate::kit::{Action, Script, WriteHow};
use crate::scenario::{Package, PayloadKind};

/// pypa/installer 1.1: files written in place, an existing one refused.
#[derive(Debug, Clone, Copy, Default)]
pub struct PypaInstaller;

/// The installer's line when a file is there.
const FILE_EXISTS: &str = "FileExistsError: File already exists: {path}";

impl PypaInstaller {
    /// The script `python -m installer` runs for `package`.
    pub fn script(package: &Package) -> Script {
        let files = package.payload.iter().filter_map(|e| match &e.kind {
            PayloadKind::File(blob) => Some((e, blob)),
            PayloadKind::Dir | PayloadKind::Symlink(_) => None,
        });
        let (record, rest): (Vec<_>, Vec<_>) =
            files.partition(|(e, _)| e.path.ends_with(".dist-info/RECORD"));
        let mut script = Script::new("installer");
        for (entry, blob) in rest.into_iter().chain(record) {
            script = script
                .fail_if_exists(&entry.path)
                .saying(FILE_EXISTS)
                .ensure_dir(parent_of(&entry.path))
                .then(Action::Write {
                    path: entry.path.clone(),
                    content: blob.clone(),
                    how: WriteHow::InPlace,
                });
            if entry.is_executable() {
                script = script.chmod(&entry.path, entry.mode);
            }
        }
        script
    }
}

impl Strategy for PypaInstaller {
    fn name(&self) -> &str {
        "installer"
    }

    fn summary(&self) -> &str {
        "pypa/installer 1.1 writes the wheel straight into the prefix, refusing files that exist"
    }

    fn install_job(&self, package: &Package, ctx: &InstallContext<'_>) -> Result<Box<dyn Job>> {
        Ok(Box::new(ScriptJob::new(
            format!("installer[{}]", package.name),
            Arc::new(PypaInstaller::script(package)),
            &ctx.scenario.prefix,
        )))
    }
}
