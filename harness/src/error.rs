//! Errors. Every input problem becomes one line naming the file, the line and
//! the field, and maps to exit code 2.

use thiserror::Error;

/// An error of the harness.
#[derive(Debug, Error)]
pub enum Error {
    /// Bad input in a file: scenario, RECORD, payload, wheel. Printed as
    /// `file:line: field: message`, or `file: field: message` when the line is unknown.
    #[error("{file}{}: {field}: {message}", if *line > 0 { format!(":{line}") } else { String::new() })]
    Input {
        /// The file.
        file: String,
        /// 1-based line, 0 when unknown.
        line: usize,
        /// The field or item at fault.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// A bad command line or combination of options.
    #[error("{0}")]
    Usage(String),
    /// An I/O error on a named file.
    #[error("{file}: {message}")]
    Io {
        /// The file.
        file: String,
        /// The OS error.
        message: String,
    },
}

impl Error {
    /// An input error; newlines in the message are folded so it stays one line.
    pub fn input(
        file: impl Into<String>,
        line: usize,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Error {
        Error::Input {
            file: file.into(),
            line,
            field: field.into(),
            message: one_line(&message.into()),
        }
    }

    /// An I/O error on `file`.
    pub fn io(file: impl Into<String>, err: &std::io::Error) -> Error {
        Error::Io {
            file: file.into(),
            message: one_line(&err.to_string()),
        }
    }

    /// The process exit code this error maps to.
    pub fn exit_code(&self) -> i32 {
        2
    }
}

/// Folds a message to one line.
pub fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Result with the harness error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
