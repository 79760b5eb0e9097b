//! How the binary reports errors: one line on stderr, escaped and
//! shortened, and with `--format json` also a JSON object on stdout.

use std::io::Write;
use std::process::ExitCode;

use clap::error::ErrorKind;

use super::style;
use prefixrace::internals::report::REPORT_SCHEMA;

/// The longest error line printed; longer ones keep their head and tail.
const MAX_LINE: usize = 600;

/// `message` as one printable line: whitespace runs folded to one space,
/// other control characters escaped (`\u{1b}`), and a line longer than
/// [`MAX_LINE`] characters shortened in the middle.
pub fn printable(message: &str) -> String {
    let folded = message.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut line = String::with_capacity(folded.len());
    for c in folded.chars() {
        if c.is_control() {
            line.extend(c.escape_unicode());
        } else {
            line.push(c);
        }
    }
    let count = line.chars().count();
    if count <= MAX_LINE {
        return line;
    }
    let head: String = line.chars().take(MAX_LINE * 2 / 3).collect();
    let tail: String = line.chars().skip(count - MAX_LINE / 4).collect();
    format!(
        "{head} … ({} characters left out) … {tail}",
        count - head.chars().count() - MAX_LINE / 4
    )
}

/// Prints `message` as the one error line on stderr.
pub fn error_line(message: &str) {
    let _ = writeln!(
        std::io::stderr(),
        "prefixrace: {} {}",
        style::error_label(style::stderr_colored()),
        printable(message)
    );
}

/// Prints the JSON form of an error on stdout: the schema, the command,
/// `verdict: "error"`, the `error` line and the exit code.
pub fn json_error(command: &str, message: &str, exit_code: i32) {
    let value = serde_json::json!({
        "schema": REPORT_SCHEMA,
        "command": command,
        "verdict": "error",
        "error": printable(message),
        "exit_code": exit_code,
    });
    let _ = writeln!(
        std::io::stdout(),
        "{}",
        serde_json::to_string_pretty(&value).expect("errors serialize")
    );
}

/// Handles a command line clap refused: help and version print as clap
/// prints them; every other error becomes one line (its message and tips,
/// without the usage block), exit 2, plus the JSON object when the command
/// line asked for `--format json`.
pub fn refuse(e: clap::Error) -> ExitCode {
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = e.print();
        return ExitCode::from(e.exit_code() as u8);
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let message = clap_message(&e.render().to_string(), &args);
    if asks_for_json(&args) {
        json_error(
            args.first().map_or("prefixrace", String::as_str),
            &message,
            2,
        );
    }
    error_line(&message);
    ExitCode::from(2)
}

/// Clap's rendered error without its `error:` label, usage block and
/// "For more information" line, its tips kept, and where to find help.
fn clap_message(rendered: &str, args: &[String]) -> String {
    let mut parts: Vec<&str> = Vec::new();
    let mut in_usage = false;
    for line in rendered.lines().map(str::trim) {
        if line.starts_with("Usage:") {
            in_usage = true;
            continue;
        }
        if line.is_empty() {
            in_usage = false;
            continue;
        }
        if in_usage || line.starts_with("For more information") {
            continue;
        }
        parts.push(line.strip_prefix("error: ").unwrap_or(line));
    }
    let sub = args
        .first()
        .filter(|a| !a.starts_with('-'))
        .map(|a| format!("{a} "))
        .unwrap_or_default();
    format!("{} (see 'prefixrace {sub}--help')", parts.join("; "))
}

/// Whether the raw arguments ask for `--format json`.
fn asks_for_json(args: &[String]) -> bool {
    args.iter().any(|a| a == "--format=json")
        || args
            .windows(2)
            .any(|w| w[0] == "--format" && w[1] == "json")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_long_lines_shortened() {
        assert_eq!(printable("a\nb\tc \x1b[31m"), "a b c \\u{1b}[31m");
        let long = "x".repeat(5000);
        let line = printable(&long);
        assert!(line.chars().count() < MAX_LINE + 60, "{}", line.len());
        assert!(line.contains("characters left out"));
    }

    #[test]
    fn a_clap_error_keeps_its_message_and_tip_on_one_line() {
        let rendered = "error: unexpected argument '--bogus' found\n\n  tip: to pass '--bogus' as a value, use '-- --bogus'\n\nUsage: prefixrace explore [OPTIONS] [SCENARIO]\n\nFor more information, try '--help'.\n";
        let args = vec!["explore".to_string(), "--bogus".to_string()];
        assert_eq!(
            clap_message(rendered, &args),
            "unexpected argument '--bogus' found; tip: to pass '--bogus' as a value, use '-- --bogus' (see 'prefixrace explore --help')"
        );
        assert!(asks_for_json(&[
            "explore".into(),
            "--format".into(),
            "json".into()
        ]));
        assert!(!asks_for_json(&["explore".into(), "json".into()]));
    }
}
