//! Writing a string as a TOML basic string, for every place that writes
//! scenario TOML (the builder and `record`).

use std::fmt::Write as _;

/// `s` as a TOML basic string: quotes and backslashes escaped, and every
/// control character (C0, DEL and C1) written as an escape, so that the
/// text reads back as `s` and shows nothing a terminal would act on.
pub fn toml_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::toml_str;

    #[test]
    fn escapes_are_the_short_ones_where_toml_has_them() {
        assert_eq!(toml_str("a\"b\\c\n\u{1}"), r#""a\"b\\c\n\u0001""#);
        assert_eq!(toml_str("\u{85}"), r#""\u0085""#);
    }

    #[test]
    fn every_string_round_trips_through_toml() {
        for s in [
            "plain",
            "a \"quoted\" \\ path",
            "two\nlines\ttab\r",
            "\u{7f}\u{1}é\u{9b}",
            "",
        ] {
            let v: toml::Value = toml::from_str(&format!("x = {}", toml_str(s))).unwrap();
            assert_eq!(v["x"].as_str(), Some(s));
        }
    }
}
