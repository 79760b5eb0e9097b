//! Regressions files: failing schedules kept to be replayed first, as
//! proptest keeps its `*.proptest-regressions`.
//!
//! ```text
//! # prefixrace regressions of scenario sage-32361: schedules that failed a check.
//! # Every check of the scenario replays those of its strategy before exploring.
//! # One failure a line: STRATEGY TOKEN, then how it was found. Commit this file.
//! staged-copy t1.AAMBAQ # scenario sage-32361, scheduler auto, seed 0, execution 1
//! ```
//!
//! Plain text, one token a line, `#` starts a comment. A line may also be a
//! bare token, replayed under every strategy. Where the file lives is the
//! caller's choice: [`crate::Check`] puts it next to the scenario file
//! (`NAME.regressions`) or, for built-in and in-code scenarios, in
//! `prefixrace-regressions/NAME.txt` under the current directory;
//! `prefixrace explore --regressions FILE` takes it from the command line.
//! Nothing in it depends on the time or the machine, so saving the same
//! failure twice changes nothing.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::explore::{replay, Failure};
use crate::fs::FsKind;
use crate::schedule::Schedule;
use crate::setup::Setup;

/// One saved failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The strategy it failed under; `None` for a bare token (any strategy).
    pub strategy: Option<String>,
    /// The schedule's token.
    pub token: String,
    /// Its 1-based line in the file.
    pub line: usize,
}

/// A regressions file, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Regressions {
    /// Where it is (it need not exist yet).
    pub path: PathBuf,
    /// Its failures, in file order.
    pub entries: Vec<Entry>,
}

/// A failure replayed from a regressions file.
#[derive(Debug, Clone)]
pub struct Replayed {
    /// The failure, at execution 1.
    pub failure: Failure,
    /// Where it came from: `regression, replayed from FILE line N`.
    pub found_by: String,
}

impl Regressions {
    /// Reads `path`; a missing file has no entries. A malformed line is one
    /// error naming the file and line.
    pub fn load(path: &Path) -> Result<Regressions> {
        let shown = path.display().to_string();
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(Error::io(&shown, &e)),
        };
        let mut entries = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let content = raw.split('#').next().unwrap_or("").trim();
            if content.is_empty() {
                continue;
            }
            let fields: Vec<&str> = content.split_whitespace().collect();
            let (strategy, token) = match fields.as_slice() {
                [token] => (None, *token),
                [strategy, token] => (Some(strategy.to_string()), *token),
                _ => {
                    return Err(Error::input(
                        &shown,
                        line,
                        "regression",
                        "expected `STRATEGY TOKEN` or a bare token",
                    ))
                }
            };
            Schedule::from_token(token)
                .map_err(|e| Error::input(&shown, line, "token", e.to_string()))?;
            entries.push(Entry {
                strategy,
                token: token.to_string(),
                line,
            });
        }
        Ok(Regressions {
            path: path.to_path_buf(),
            entries,
        })
    }

    /// The entries to replay under `strategy`.
    pub fn for_strategy<'a>(&'a self, strategy: &'a str) -> impl Iterator<Item = &'a Entry> + 'a {
        self.entries
            .iter()
            .filter(move |e| e.strategy.as_deref().is_none_or(|s| s == strategy))
    }

    /// Replays the entries of `setup`'s strategy in file order and returns
    /// the first that still fails, as execution 1. A token that no longer
    /// replays (the scenario or strategy changed under it) is skipped with
    /// a warning on stderr, since it cannot fail this run.
    pub fn replay_first(&self, setup: &Setup, fs: FsKind) -> Result<Option<Replayed>> {
        for e in self.for_strategy(&setup.strategy) {
            match replay(setup, &e.token, fs) {
                Ok(r) => {
                    if let Some(mut failure) = r.failure {
                        failure.execution = Some(1);
                        return Ok(Some(Replayed {
                            failure,
                            found_by: format!(
                                "regression, replayed from {} line {}",
                                self.path.display(),
                                e.line
                            ),
                        }));
                    }
                }
                Err(Error::Usage(why)) => eprintln!(
                    "prefixrace: {}:{}: skipped: {}",
                    self.path.display(),
                    e.line,
                    why.trim_start_matches("--token ")
                ),
                Err(other) => return Err(other),
            }
        }
        Ok(None)
    }

    /// Appends a failure of `strategy` with `token` to the file at `path`
    /// (creating it, and its directory, with a header naming `scenario`),
    /// unless the file already holds that token for that strategy.
    /// `comment` says how it was found (scenario, scheduler, seed). Returns
    /// whether the file changed.
    pub fn save(
        path: &Path,
        scenario: &str,
        strategy: &str,
        token: &str,
        comment: &str,
    ) -> Result<bool> {
        let shown = path.display().to_string();
        let existing = Regressions::load(path)?;
        if existing
            .entries
            .iter()
            .any(|e| e.token == token && e.strategy.as_deref().is_none_or(|s| s == strategy))
        {
            return Ok(false);
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir.display().to_string(), &e))?;
        }
        // Checks running in parallel (cargo test's threads) may save to one
        // file: the header is written by whoever creates the file, and each
        // entry is one append of one line.
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
        {
            Ok(mut f) => f
                .write_all(header(scenario).as_bytes())
                .map_err(|e| Error::io(&shown, &e))?,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(Error::io(&shown, &e)),
        }
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(|e| Error::io(&shown, &e))?;
        let text = std::fs::read(path).map_err(|e| Error::io(&shown, &e))?;
        let mut line = String::new();
        if text.last().is_some_and(|b| *b != b'\n') {
            line.push('\n');
        }
        line.push_str(&format!(
            "{strategy} {token} # {}\n",
            comment.replace('\n', " ")
        ));
        f.write_all(line.as_bytes())
            .map_err(|e| Error::io(&shown, &e))?;
        Ok(true)
    }
}

/// The comment block a new regressions file starts with.
fn header(scenario: &str) -> String {
    format!(
        "# prefixrace regressions of scenario {scenario}: schedules that failed a check.\n\
         # Every check of the scenario replays those of its strategy before exploring.\n\
         # One failure a line: STRATEGY TOKEN, then how it was found. Commit this file.\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saving_twice_writes_once_and_loading_reads_it_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/s.regressions");
        let token = Schedule {
            choices: vec![0, 0, 1],
        }
        .token();
        assert!(Regressions::save(&path, "s", "staged-copy", &token, "seed 0").unwrap());
        assert!(!Regressions::save(&path, "s", "staged-copy", &token, "seed 1").unwrap());
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().filter(|l| !l.starts_with('#')).count(), 1);
        let r = Regressions::load(&path).unwrap();
        assert_eq!(r.entries.len(), 1);
        assert_eq!(r.entries[0].strategy.as_deref(), Some("staged-copy"));
        assert_eq!(r.entries[0].line, 4);
        assert_eq!(r.for_strategy("direct-install").count(), 0);
    }

    #[test]
    fn bad_lines_name_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.txt");
        std::fs::write(&path, "# c\n\nstaged-copy t1.AAMBAQ extra\n").unwrap();
        let e = Regressions::load(&path).unwrap_err().to_string();
        assert!(
            e.ends_with("r.txt:3: regression: expected `STRATEGY TOKEN` or a bare token"),
            "{e}"
        );
        std::fs::write(&path, "staged-copy x1.zz\n").unwrap();
        let e = Regressions::load(&path).unwrap_err().to_string();
        assert!(e.contains("r.txt:1: token: "), "{e}");
        assert!(Regressions::load(&dir.path().join("none"))
            .unwrap()
            .entries
            .is_empty());
    }
}
