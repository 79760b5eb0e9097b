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
            file: escape_controls(&file.into()),
            line,
            field: escape_controls(&field.into()),
            message: one_line(&message.into()),
        }
    }

    /// An I/O error on `file`.
    pub fn io(file: impl Into<String>, err: &std::io::Error) -> Error {
        Error::Io {
            file: escape_controls(&file.into()),
            message: one_line(&err.to_string()),
        }
    }

    /// The process exit code this error maps to.
    pub fn exit_code(&self) -> i32 {
        2
    }
}

/// `s` with its control characters escaped (`\n`, `\u{1b}`): a file or
/// field name comes from the input (a wheel member, a RECORD path) and may
/// hold a newline, which would split the error line or forge another.
pub fn escape_controls(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_string();
    }
    s.chars()
        .flat_map(|c| {
            let escaped: Vec<char> = if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .collect()
}

/// Folds a message to one line.
pub fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Result with the harness error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
