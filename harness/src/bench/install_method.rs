//! The ways the parallel-install benchmark puts a payload set into a prefix.

use std::fmt;

/// How each package of the set reaches the shared prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InstallMethod {
    /// The floor: a plain loop writing the final tree (files and bytecode)
    /// in place. Nothing can install the same bytes with less work.
    Floor,
    /// pip straight into the prefix: makedirs, write in place, then bytecode
    /// through temp + rename ([`super::pip_install::pip_install`]).
    DirectInstall,
    /// pip into a private staging directory, then `cp -Rp stage/. prefix`
    /// ([`super::cp_rp`]): the sage-spkg way that raced in ticket 32361.
    StagedCopy,
    /// Only the `cp -Rp` of an already staged tree (the staging is not timed).
    CopyOnly,
}

impl InstallMethod {
    /// Every method, in the order tables show them.
    pub const ALL: [InstallMethod; 4] = [
        InstallMethod::Floor,
        InstallMethod::DirectInstall,
        InstallMethod::StagedCopy,
        InstallMethod::CopyOnly,
    ];

    /// The stable name used in tables, JSON and criterion ids.
    pub fn name(self) -> &'static str {
        match self {
            InstallMethod::Floor => "floor",
            InstallMethod::DirectInstall => "direct-install",
            InstallMethod::StagedCopy => "staged-copy",
            InstallMethod::CopyOnly => "copy-only",
        }
    }
}

impl fmt::Display for InstallMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
