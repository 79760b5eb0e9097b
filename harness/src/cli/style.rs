//! Colour on a terminal: `--color auto|always|never` and `NO_COLOR`.
//!
//! Only verdict words (PASS, FAIL, INCOMPLETE, …) and the `error:` of error
//! lines are coloured, and only when the stream they go to is a terminal
//! (`auto`, the default, unless `NO_COLOR` is set to a non-empty value) or
//! when `--color always` asks. Reports written to a pipe or a file stay
//! byte-identical plain text.

use std::borrow::Cow;
use std::io::IsTerminal;
use std::sync::OnceLock;

use clap::ValueEnum;

/// When to colour (and, for `--progress`, when to show progress).
#[derive(Copy, Clone, PartialEq, Eq, Debug, Default, ValueEnum)]
pub enum When {
    /// On a terminal only.
    #[default]
    Auto,
    /// Always, even into a pipe or a file.
    Always,
    /// Never.
    Never,
}

static COLOR: OnceLock<When> = OnceLock::new();

/// Sets the `--color` choice for the rest of the process (first call wins).
pub fn set_color(when: When) {
    let _ = COLOR.set(when);
}

/// Whether `NO_COLOR` asks for no colour: set to anything but the empty string.
fn no_color_env() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

/// Whether to colour a stream that is, or is not, a terminal.
fn enabled(is_terminal: bool) -> bool {
    match COLOR.get().copied().unwrap_or_default() {
        When::Always => true,
        When::Never => false,
        When::Auto => is_terminal && !no_color_env(),
    }
}

/// Whether text for stdout is coloured.
pub fn stdout_colored() -> bool {
    enabled(std::io::stdout().is_terminal())
}

/// Whether text for stderr is coloured.
pub fn stderr_colored() -> bool {
    enabled(std::io::stderr().is_terminal())
}

const RED: &str = "\x1b[1;31m";
const GREEN: &str = "\x1b[1;32m";
const YELLOW: &str = "\x1b[1;33m";
const RESET: &str = "\x1b[0m";

/// The verdict words a report line may start with (after `prefixrace
/// CMD: `), longest first, with their colour.
const VERDICTS: [(&str, &str); 7] = [
    ("NOT REPRODUCED", YELLOW),
    ("REPRODUCED", RED),
    ("INCOMPLETE", YELLOW),
    ("PASS", GREEN),
    ("FAIL", RED),
    ("HANG", RED),
    ("ERROR", RED),
];

/// `text` with the verdict word of each verdict line coloured when `on`:
/// a line that starts with a verdict, or with `prefixrace CMD: ` and then one.
pub fn paint_verdicts(text: &str, on: bool) -> Cow<'_, str> {
    if !on {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for line in text.split_inclusive('\n') {
        let rest_at = match line.strip_prefix("prefixrace ") {
            Some(rest) => rest.find(": ").map_or(0, |i| "prefixrace ".len() + i + 2),
            None => 0,
        };
        let (head, rest) = line.split_at(rest_at);
        match VERDICTS.iter().find(|(word, _)| {
            rest.starts_with(word)
                && !rest[word.len()..].starts_with(|c: char| c.is_ascii_alphanumeric())
        }) {
            Some((word, color)) => {
                out.push_str(head);
                out.push_str(color);
                out.push_str(word);
                out.push_str(RESET);
                out.push_str(&rest[word.len()..]);
            }
            None => out.push_str(line),
        }
    }
    Cow::Owned(out)
}

/// The `error:` label of an error line, red when `on`.
pub fn error_label(on: bool) -> String {
    if on {
        format!("{RED}error:{RESET}")
    } else {
        "error:".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_verdict_word_of_verdict_lines_is_coloured() {
        let text = "prefixrace explore: FAIL\nscenario: x\nPASS: 3 executions\nNOT REPRODUCED: y\nPASSED nothing\n";
        let painted = paint_verdicts(text, true);
        assert_eq!(
            painted,
            "prefixrace explore: \x1b[1;31mFAIL\x1b[0m\nscenario: x\n\x1b[1;32mPASS\x1b[0m: 3 executions\n\x1b[1;33mNOT REPRODUCED\x1b[0m: y\nPASSED nothing\n"
        );
        assert_eq!(paint_verdicts(text, false), text);
    }
}
