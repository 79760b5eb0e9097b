//! A wheel's `*.dist-info/entry_points.txt` and the console scripts pip
//! makes of its `[console_scripts]` and `[gui_scripts]` entries.
//!
//! pip reads the two sections in file order, console scripts first, and hands
//! each `NAME = MODULE:ATTR [extras]` to distlib's `ScriptMaker`, which writes
//! `bin/NAME` from one template (pinned against pip 23.2.1 under strace,
//! docs/fidelity.md): the shebang of the interpreter running pip, then
//! `from MODULE import ATTR` and `sys.exit(ATTR())`. Extras are ignored; on
//! POSIX a GUI script is the same text.

use crate::error::{Error, Result};

/// One script pip generates from an entry point.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EntryPoint {
    /// The script's file name under `bin/`.
    pub name: String,
    /// The module the script imports from.
    pub module: String,
    /// The callable, possibly dotted (`Class.method`).
    pub attr: String,
}

impl EntryPoint {
    /// The entry as `entry_points.txt` and a payload's `scripts` write it:
    /// `NAME = MODULE:ATTR`.
    pub fn line(&self) -> String {
        format!("{} = {}:{}", self.name, self.module, self.attr)
    }

    /// The script text distlib writes for an interpreter at `python`.
    pub fn script(&self, python: &str) -> Vec<u8> {
        let import_name = self.attr.split('.').next().unwrap_or(&self.attr);
        let mut text = shebang(python);
        text.push_str(&format!(
            "# -*- coding: utf-8 -*-\n\
             import re\n\
             import sys\n\
             from {module} import {import_name}\n\
             if __name__ == '__main__':\n    \
             sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])\n    \
             sys.exit({func}())\n",
            module = self.module,
            func = self.attr,
        ));
        text.into_bytes()
    }
}

/// distlib's shebang on Linux: `#!PYTHON` when it has no space and the line
/// fits in 127 bytes, else the `/bin/sh` trampoline.
fn shebang(python: &str) -> String {
    if !python.contains(' ') && python.len() + 3 <= 127 {
        format!("#!{python}\n")
    } else {
        let quoted = if python.contains(' ') {
            format!("\"{python}\"")
        } else {
            python.to_string()
        };
        format!("#!/bin/sh\n'''exec' {quoted} \"$0\" \"$@\"\n' '''\n")
    }
}

/// The scripts `entry_points.txt` (named `file` in errors) asks pip for:
/// `[console_scripts]` in file order, then `[gui_scripts]`.
pub(crate) fn parse_entry_points(file: &str, bytes: &[u8]) -> Result<Vec<EntryPoint>> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| Error::input(file, 0, "encoding", "file is not valid UTF-8"))?;
    let mut console = Vec::new();
    let mut gui = Vec::new();
    let mut section = "";
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.trim();
            continue;
        }
        let into = match section {
            "console_scripts" => &mut console,
            "gui_scripts" => &mut gui,
            _ => continue,
        };
        into.push(parse_entry(file, i + 1, line)?);
    }
    console.extend(gui);
    Ok(console)
}

/// One `NAME = MODULE:ATTR [extras]` line (of `file`, at `line_no`).
pub(crate) fn parse_entry(file: &str, line_no: usize, line: &str) -> Result<EntryPoint> {
    let bad = |field: &str, why: String| Error::input(file, line_no, field, why);
    let (name, value) = line
        .split_once('=')
        .ok_or_else(|| bad("entry point", format!("{line:?} is not NAME = MODULE:ATTR")))?;
    let name = name.trim();
    let ok_name = !name.is_empty()
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || "-_.+".contains(c));
    if !ok_name {
        return Err(bad(
            "name",
            format!("{name:?} is not a script name (letters, digits, - _ . +)"),
        ));
    }
    let callable = value.split('[').next().unwrap_or("").trim();
    let Some((module, attr)) = callable.split_once(':') else {
        return Err(bad(
            "entry point",
            format!("{name} = {}: a callable suffix is required", value.trim()),
        ));
    };
    let dotted = |s: &str| {
        !s.is_empty()
            && s.split('.').all(|part| {
                !part.is_empty()
                    && !part.starts_with(|c: char| c.is_ascii_digit())
                    && part.chars().all(|c| c.is_alphanumeric() || c == '_')
            })
    };
    let (module, attr) = (module.trim(), attr.trim());
    if !dotted(module) || !dotted(attr) {
        return Err(bad(
            "entry point",
            format!("{name} = {callable}: not MODULE:ATTR of dotted names"),
        ));
    }
    Ok(EntryPoint {
        name: name.to_string(),
        module: module.to_string(),
        attr: attr.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What real pip 23.2.1 wrote to `bin/black` (strace, docs/fidelity.md).
    const REAL_BLACK: &str = "#!/root/.pyenv/versions/3.11.7/bin/python3.11\n\
# -*- coding: utf-8 -*-\n\
import re\n\
import sys\n\
from black import patched_main\n\
if __name__ == '__main__':\n    \
sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])\n    \
sys.exit(patched_main())\n";

    #[test]
    fn the_script_is_byte_for_byte_what_pip_wrote() {
        let entries = parse_entry_points(
            "entry_points.txt",
            b"[console_scripts]\nblack = black:patched_main\nblackd = blackd:patched_main [d]\n\n\
              [validate_pyproject.tool_schema]\nblack = black.schema:get_schema\n",
        )
        .unwrap();
        let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["black", "blackd"]);
        assert_eq!(entries[1].line(), "blackd = blackd:patched_main");
        let text = entries[0].script("/root/.pyenv/versions/3.11.7/bin/python3.11");
        assert_eq!(String::from_utf8(text).unwrap(), REAL_BLACK);
        assert_eq!(REAL_BLACK.len(), 247, "the size pip's RECORD gives");
        assert_eq!(
            entries[1]
                .script("/root/.pyenv/versions/3.11.7/bin/python3.11")
                .len(),
            248
        );
    }

    #[test]
    fn console_scripts_come_before_gui_scripts_and_dotted_attrs_import_their_head() {
        let entries = parse_entry_points(
            "e",
            b"[gui_scripts]\ng = m:G.run\n[console_scripts]\nc = m.sub:main\n",
        )
        .unwrap();
        assert_eq!(entries[0].name, "c");
        assert_eq!(entries[1].name, "g");
        let g = String::from_utf8(entries[1].script("/p/bin/python3.9")).unwrap();
        assert!(g.contains("from m import G\n") && g.contains("sys.exit(G.run())"));
    }

    #[test]
    fn a_long_interpreter_path_gets_the_sh_trampoline() {
        let long = format!("/{}/bin/python3.9", "x".repeat(130));
        let text = String::from_utf8(
            EntryPoint {
                name: "n".into(),
                module: "m".into(),
                attr: "f".into(),
            }
            .script(&long),
        )
        .unwrap();
        assert!(text.starts_with(&format!(
            "#!/bin/sh\n'''exec' {long} \"$0\" \"$@\"\n' '''\n"
        )));
    }

    #[test]
    fn bad_entries_name_the_line_and_field() {
        for (text, field) in [
            ("[console_scripts]\n../x = m:f\n", "name"),
            ("[console_scripts]\nx = m\n", "entry point"),
            ("[console_scripts]\nx\n", "entry point"),
        ] {
            let e = parse_entry_points("w!e.txt", text.as_bytes())
                .unwrap_err()
                .to_string();
            assert!(e.contains("w!e.txt:2") && e.contains(field), "{e}");
        }
    }
}
