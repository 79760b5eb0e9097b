//! How a real tool words a failed system call.
//!
//! Each family of tools prints an OS error its own way, and the corpus of
//! incidents (`scenarios/races/`) quotes them:
//! - GNU coreutils: `cp: cannot create regular file 'P': File exists`,
//!   `rm: cannot remove 'P': Directory not empty`,
//!   `mv: cannot move 'A' to 'B': No such file or directory`;
//! - Python (`OSError.__str__`): `[Errno 2] No such file or directory: 'A' -> 'B'`,
//!   after the tool's own lead-in (pip: `ERROR: Could not install packages
//!   due to an OSError: `, Spack: `==> Error: `, a bare interpreter: the
//!   exception class);
//! - Node (libuv's lower-case messages): `ENOENT: no such file or
//!   directory, rename 'A' -> 'B'`, after pnpm's ` ERR_PNPM_ENOENT  ` or
//!   npm's `npm error ` (npm 10 and later; the last line of its report,
//!   pinned against npm 11.19 in `tests/pins_npm.rs`);
//! - Rust's `fs-err`, as uv prints it: `error: failed to rename file from A
//!   to B: No such file or directory (os error 2)`.
//!
//! A step may also carry a message of its own (a tool's check rather than
//! an OS error, such as conda's `CondaVerificationError`): see
//! [`Voice::say`].

use super::Failure;
use crate::op::Errno;

/// The family of a tool's error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// GNU coreutils (`cp`, `rm`, `mv`, `ln`, `mkdir`).
    Coreutils,
    /// A Python program printing `str(OSError)` after a lead-in.
    Python,
    /// A Node program printing a libuv error after a lead-in.
    Node,
    /// A Rust program printing an `fs-err` error after `error: `.
    Rust,
}

/// How one program prints a failed call: its name, dialect and lead-in.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Voice {
    /// The program's name (`pnpm`, `spack`, `cp`).
    pub program: String,
    /// Its family of messages.
    pub dialect: Dialect,
}

impl Voice {
    /// The voice of a program by name: coreutils for `cp`, `rm`, `mv`, `ln`
    /// and `mkdir`; Node for `node`, `npm` and `pnpm`; Rust for `uv`;
    /// Python for everything else (`pip`, `conda`, `spack`, `python3`,
    /// `sage`).
    pub fn of(program: &str) -> Voice {
        let dialect = match program {
            "cp" | "rm" | "mv" | "ln" | "mkdir" => Dialect::Coreutils,
            "node" | "npm" | "pnpm" => Dialect::Node,
            "uv" => Dialect::Rust,
            _ => Dialect::Python,
        };
        Voice {
            program: program.to_string(),
            dialect,
        }
    }

    /// The program's name as a job reports it: the known tools by name,
    /// any other program as `script`.
    pub fn program_name(&self) -> &'static str {
        const KNOWN: &[&str] = &[
            "cp",
            "rm",
            "mv",
            "ln",
            "mkdir",
            "node",
            "npm",
            "pnpm",
            "uv",
            "pip",
            "conda",
            "spack",
            "python3",
            "sage",
            "installer",
        ];
        KNOWN
            .iter()
            .find(|k| **k == self.program)
            .copied()
            .unwrap_or("script")
    }

    /// The line the program prints for `failure`; paths are shown under
    /// `prefix` as the tool would show them. A step's own `message`, when
    /// given, replaces it, with `{path}`, `{to}` and `{error}` (the
    /// strerror text) filled in.
    pub fn say(&self, failure: &Failure, prefix: &str, message: Option<&str>) -> String {
        let path = shown(prefix, &failure.path);
        let to = failure.to.as_deref().map(|t| shown(prefix, t));
        if let Some(template) = message {
            return template
                .replace("{path}", &path)
                .replace("{to}", to.as_deref().unwrap_or(""))
                .replace("{error}", failure.errno.message());
        }
        match self.dialect {
            Dialect::Coreutils => self.coreutils(failure, &path, to.as_deref()),
            Dialect::Python => self.python(failure, &path, to.as_deref()),
            Dialect::Node => self.node(failure, &path, to.as_deref()),
            Dialect::Rust => rust(failure, &path, to.as_deref()),
        }
    }

    fn coreutils(&self, f: &Failure, path: &str, to: Option<&str>) -> String {
        let error = f.errno.message();
        let what = match (self.program.as_str(), f.syscall) {
            (_, "rename") => format!("cannot move '{path}' to '{}'", to.unwrap_or("")),
            (_, "symlink") => format!("failed to create symbolic link '{}'", to.unwrap_or("")),
            (_, "mkdir") => format!("cannot create directory '{path}'"),
            (_, "open") if f.writing => format!("cannot create regular file '{path}'"),
            (_, "open") => format!("cannot open '{path}' for reading"),
            ("rm", _) | (_, "unlink") | (_, "rmdir") => format!("cannot remove '{path}'"),
            (_, "lstat") | (_, "stat") => format!("cannot stat '{path}'"),
            (_, syscall) => format!("{syscall} '{path}'"),
        };
        format!("{}: {what}: {error}", self.program)
    }

    fn python(&self, f: &Failure, path: &str, to: Option<&str>) -> String {
        let os_error = match to {
            Some(to) => format!(
                "[Errno {}] {}: '{path}' -> '{to}'",
                f.errno.number(),
                f.errno.message()
            ),
            None => format!(
                "[Errno {}] {}: '{path}'",
                f.errno.number(),
                f.errno.message()
            ),
        };
        match self.program.as_str() {
            "pip" => format!("ERROR: Could not install packages due to an OSError: {os_error}"),
            "spack" => format!("==> Error: {os_error}"),
            _ => format!("{}: {os_error}", python_exception(f.errno)),
        }
    }

    fn node(&self, f: &Failure, path: &str, to: Option<&str>) -> String {
        let code = f.errno.name();
        let syscall = match f.syscall {
            "readdir" => "scandir",
            other => other,
        };
        let target = match to {
            Some(to) => format!("'{path}' -> '{to}'"),
            None => format!("'{path}'"),
        };
        let error = format!("{code}: {}, {syscall} {target}", libuv_message(f.errno));
        match self.program.as_str() {
            "pnpm" => format!(" ERR_PNPM_{code}  {error}"),
            "npm" => format!("npm error {error}"),
            _ => format!("Error: {error}"),
        }
    }
}

/// uv's `fs-err` wording: `failed to rename file from A to B`.
fn rust(f: &Failure, path: &str, to: Option<&str>) -> String {
    let what = match f.syscall {
        "rename" => format!("failed to rename file from {path} to {}", to.unwrap_or("")),
        "mkdir" => format!("failed to create directory `{path}`"),
        "unlink" => format!("failed to remove file `{path}`"),
        "rmdir" => format!("failed to remove directory `{path}`"),
        "readdir" => format!("failed to read directory `{path}`"),
        "symlink" => format!("failed to symlink file from {path} to {}", to.unwrap_or("")),
        "link" => format!(
            "failed to hardlink file from {path} to {}",
            to.unwrap_or("")
        ),
        "lstat" | "stat" => format!("failed to query metadata of file `{path}`"),
        _ => format!("failed to open file `{path}`"),
    };
    format!(
        "error: {what}: {} (os error {})",
        f.errno.message(),
        f.errno.number()
    )
}

/// The path as the tool prints it: under the prefix.
fn shown(prefix: &str, path: &str) -> String {
    match (prefix.trim_end_matches('/'), path) {
        (p, "") => p.to_string(),
        (p, rel) => format!("{p}/{rel}"),
    }
}

/// The `OSError` subclass CPython raises for an errno.
fn python_exception(errno: Errno) -> &'static str {
    match errno {
        Errno::ENOENT => "FileNotFoundError",
        Errno::EEXIST => "FileExistsError",
        Errno::EISDIR => "IsADirectoryError",
        Errno::ENOTDIR => "NotADirectoryError",
        Errno::EACCES | Errno::EPERM => "PermissionError",
        Errno::EINTR => "InterruptedError",
        _ => "OSError",
    }
}

/// libuv's `uv_strerror`, which Node prints after the code.
fn libuv_message(errno: Errno) -> &'static str {
    match errno {
        Errno::ENOENT => "no such file or directory",
        Errno::EEXIST => "file already exists",
        Errno::ENOTDIR => "not a directory",
        Errno::EISDIR => "illegal operation on a directory",
        Errno::ENOTEMPTY => "directory not empty",
        Errno::EINVAL => "invalid argument",
        Errno::EBADF => "bad file descriptor",
        Errno::ELOOP => "too many symbolic links encountered",
        Errno::EACCES => "permission denied",
        Errno::EPERM => "operation not permitted",
        Errno::EXDEV => "cross-device link not permitted",
        Errno::ENAMETOOLONG => "name too long",
        Errno::EAGAIN => "resource temporarily unavailable",
        Errno::ENOSPC => "no space left on device",
        Errno::EIO => "i/o error",
        Errno::EINTR => "interrupted system call",
        Errno::Other(_) => "unknown error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rename_enoent() -> Failure {
        Failure::between(
            "rename",
            Errno::ENOENT,
            &"node_modules/.tmp-a".into(),
            &"node_modules/is-positive".into(),
        )
    }

    /// Each dialect words the same failed rename the way its tool does.
    #[test]
    fn each_dialect_words_a_failed_rename_like_its_tool() {
        let f = rename_enoent();
        let say = |program: &str| Voice::of(program).say(&f, "/p", None);
        assert_eq!(
            say("pnpm"),
            " ERR_PNPM_ENOENT  ENOENT: no such file or directory, rename \
             '/p/node_modules/.tmp-a' -> '/p/node_modules/is-positive'"
        );
        assert_eq!(
            say("npm"),
            "npm error ENOENT: no such file or directory, rename \
             '/p/node_modules/.tmp-a' -> '/p/node_modules/is-positive'"
        );
        assert_eq!(
            say("spack"),
            "==> Error: [Errno 2] No such file or directory: \
             '/p/node_modules/.tmp-a' -> '/p/node_modules/is-positive'"
        );
        assert_eq!(
            say("uv"),
            "error: failed to rename file from /p/node_modules/.tmp-a to \
             /p/node_modules/is-positive: No such file or directory (os error 2)"
        );
        assert_eq!(
            say("mv"),
            "mv: cannot move '/p/node_modules/.tmp-a' to '/p/node_modules/is-positive': \
             No such file or directory"
        );
    }

    /// cp's two words for a failed open: create for writing, open for reading.
    #[test]
    fn coreutils_tells_creating_from_reading() {
        let f = Failure::new("open", Errno::EEXIST, &"future/__init__.pyc".into());
        assert_eq!(
            Voice::of("cp").say(&f.clone().writing(), "/sage/local", None),
            "cp: cannot create regular file '/sage/local/future/__init__.pyc': File exists"
        );
        assert_eq!(
            Voice::of("cp").say(&f, "/sage/local", None),
            "cp: cannot open '/sage/local/future/__init__.pyc' for reading: File exists"
        );
        let rm = Failure::new("rmdir", Errno::ENOTEMPTY, &"lib".into());
        assert_eq!(
            Voice::of("rm").say(&rm, "/p", None),
            "rm: cannot remove '/p/lib': Directory not empty"
        );
    }

    /// A step's own message replaces the OS error, with the paths filled in.
    #[test]
    fn a_step_message_fills_in_the_paths() {
        let f = Failure::new("lstat", Errno::ENOENT, &"pkgs/x/info/index.json".into());
        let line = Voice::of("conda").say(&f, "/opt/conda", Some("missing {path}: {error}"));
        assert_eq!(
            line,
            "missing /opt/conda/pkgs/x/info/index.json: No such file or directory"
        );
        assert_eq!(
            Voice::of("python3").say(&f, "/opt/conda", None),
            "FileNotFoundError: [Errno 2] No such file or directory: \
             '/opt/conda/pkgs/x/info/index.json'"
        );
    }
}
