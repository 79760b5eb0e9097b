//! Strategies declared in a scenario file, as a composition of built-in steps.
//!
//! ```toml
//! [[strategy]]
//! name = "my-merge"
//! summary = "stage, compile, then a cp that merges and replaces"
//! steps = ["stage", "compile", { step = "copy", on-exist = "replace" }]
//! ```
//!
//! The steps, in the order they may appear:
//! - `lock` (first, optional): hold the exclusive prefix lock for the whole
//!   install ([`crate::job::LockedJob`]);
//! - `stage`: pip into a private staging root first;
//! - `compile` (optional): byte-compile — into the stage when it follows
//!   `stage`, in the prefix when it follows `write`;
//! - exactly one delivery: `copy` (`on-exist = "fail" | "merge" | "replace"`,
//!   default `fail`, needs `stage`), `merge` (`collision = "protect-owned" |
//!   "collision-protect" | "off"`, default `protect-owned`, needs `stage`),
//!   or `write` (`atomic = true | false`, default `false`, no `stage`).
//!
//! A step is a string, or an inline table whose `step` key names it and whose
//! other keys are its options. Every mistake is one error naming the file,
//! the line and the field.

use super::step::{compose, STEP_NAMES};
use super::{InstallContext, Pipeline, Step, Strategy};
use crate::error::{Error, Result};
use crate::job::{Collision, CpOnExist, Job};
use crate::scenario::Package;

/// A strategy a scenario declares, or one composed of [`Step`]s in code
/// ([`DeclaredStrategy::from_steps`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredStrategy {
    /// The name, used with `--strategy`.
    pub name: String,
    /// One line saying what it does.
    pub summary: String,
    /// The steps, each rendered canonically (`copy{on-exist=replace}`).
    pub steps: Vec<String>,
    /// What the steps compose to.
    pub pipeline: Pipeline,
}

impl Strategy for DeclaredStrategy {
    fn name(&self) -> &str {
        &self.name
    }

    fn summary(&self) -> &str {
        &self.summary
    }

    fn install_job(&self, package: &Package, ctx: &InstallContext<'_>) -> Result<Box<dyn Job>> {
        self.pipeline.install_job(package, ctx)
    }

    fn is_bookkeeping(&self, path: &str) -> bool {
        matches!(self.pipeline.delivery, super::Delivery::Merge { .. })
            && super::ImageThenMerge.is_bookkeeping(path)
    }
}

/// Builds a declared strategy from its parsed TOML: `steps` holds each step
/// with the line it is on. `reserved` are names already taken (built-in and
/// earlier declared strategies).
pub fn parse_declared(
    file: &str,
    name: (&str, usize),
    summary: &str,
    steps: &[(toml::Value, usize)],
    reserved: &[String],
) -> Result<DeclaredStrategy> {
    let mut typed = Vec::with_capacity(steps.len());
    for (value, line) in steps {
        let step = parse_step(value).map_err(|m| Error::input(file, *line, "steps", m))?;
        typed.push((step, *line));
    }
    compose(file, name, summary, &typed, reserved)
}

/// One step of a `steps` array: a string, or an inline table whose `step`
/// key names it and whose other keys are its options.
fn parse_step(value: &toml::Value) -> std::result::Result<Step, String> {
    let (name, options) = match value {
        toml::Value::String(s) => (s.as_str(), None),
        toml::Value::Table(t) => match t.get("step") {
            Some(toml::Value::String(s)) => (s.as_str(), Some(t)),
            Some(_) => return Err("`step` must be a string".into()),
            None => return Err(
                "a step table needs a `step` key, e.g. { step = \"copy\", on-exist = \"merge\" }"
                    .into(),
            ),
        },
        other => {
            return Err(format!(
                "a step is a string or an inline table, got {}",
                other.type_str()
            ))
        }
    };
    let option = |key: &str| options.and_then(|t| t.get(key));
    let allowed: &[&str] = match name {
        "copy" => &["on-exist"],
        "merge" => &["collision"],
        "write" => &["atomic"],
        "lock" | "stage" | "compile" => &[],
        other => {
            return Err(format!(
                "unknown step {other:?}: expected {}",
                STEP_NAMES.join(", ")
            ))
        }
    };
    if let Some(t) = options {
        if let Some(k) = t
            .keys()
            .find(|k| *k != "step" && !allowed.contains(&k.as_str()))
        {
            return Err(if allowed.is_empty() {
                format!("step {name:?} takes no options, got {k:?}")
            } else {
                format!(
                    "step {name:?} has no option {k:?}: expected {}",
                    allowed.join(", ")
                )
            });
        }
    }
    Ok(match name {
        "lock" => Step::Lock,
        "stage" => Step::Stage,
        "compile" => Step::Compile,
        "copy" => {
            let on_exist = match option("on-exist") {
                None => CpOnExist::Fail,
                Some(toml::Value::String(s)) => CpOnExist::from_name(s).ok_or_else(|| {
                    format!("copy: on-exist {s:?}: expected fail, merge or replace")
                })?,
                Some(_) => return Err("copy: on-exist must be a string".into()),
            };
            Step::Copy { on_exist }
        }
        "merge" => {
            let collision = match option("collision") {
                None => Collision::ProtectOwned,
                Some(toml::Value::String(s)) => Collision::from_name(s).ok_or_else(|| {
                    format!(
                        "merge: collision {s:?}: expected protect-owned, collision-protect or off"
                    )
                })?,
                Some(_) => return Err("merge: collision must be a string".into()),
            };
            Step::Merge { collision }
        }
        _ => {
            let atomic = match option("atomic") {
                None => false,
                Some(toml::Value::Boolean(b)) => *b,
                Some(_) => return Err("write: atomic must be true or false".into()),
            };
            Step::Write { atomic }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::Delivery;

    fn steps(src: &str) -> Vec<(toml::Value, usize)> {
        let v: toml::Value = toml::from_str(&format!("s = {src}")).unwrap();
        v["s"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| (x.clone(), 7))
            .collect()
    }

    fn parse(src: &str) -> Result<DeclaredStrategy> {
        parse_declared("s.toml", ("mine", 3), "", &steps(src), &[])
    }

    #[test]
    fn steps_compose_to_the_pipeline_of_each_built_in() {
        let cases = [
            (
                r#"["stage", "compile", "copy"]"#,
                false,
                true,
                Delivery::Copy {
                    on_exist: CpOnExist::Fail,
                },
            ),
            (
                r#"["write", "compile"]"#,
                false,
                true,
                Delivery::Write { atomic: false },
            ),
            (
                r#"["stage", "compile", { step = "copy", on-exist = "replace" }]"#,
                false,
                true,
                Delivery::Copy {
                    on_exist: CpOnExist::Replace,
                },
            ),
            (
                r#"[{ step = "write", atomic = true }]"#,
                false,
                false,
                Delivery::Write { atomic: true },
            ),
            (
                r#"["lock", "stage", "compile", "merge"]"#,
                true,
                true,
                Delivery::Merge {
                    collision: Collision::ProtectOwned,
                },
            ),
        ];
        for (src, lock, compile, delivery) in cases {
            let d = parse(src).unwrap();
            assert_eq!(
                d.pipeline,
                Pipeline {
                    lock,
                    compile,
                    delivery
                },
                "{src}"
            );
        }
    }

    #[test]
    fn mistakes_are_one_line_errors_naming_file_line_and_field() {
        let cases = [
            (r#"["stage", "cpy"]"#, "unknown step \"cpy\""),
            (
                r#"["stage", "copy", "lock"]"#,
                "`lock` must be the first step",
            ),
            (r#"["copy"]"#, "put `stage` before it"),
            (r#"["stage", "write"]"#, "cannot follow `stage`"),
            (r#"["stage", "compile"]"#, "deliver no files"),
            (
                r#"["stage", { step = "copy", on-exist = "clobber" }]"#,
                "expected fail, merge or replace",
            ),
            (
                r#"["stage", { step = "copy", atomic = true }]"#,
                "has no option \"atomic\"",
            ),
            (
                r#"[{ step = "write", atomic = "yes" }]"#,
                "atomic must be true or false",
            ),
            (r#"["write", "copy"]"#, "only one of copy, merge or write"),
            (r#"[3]"#, "got integer"),
        ];
        for (src, want) in cases {
            let e = parse(src).unwrap_err().to_string();
            assert!(e.starts_with("s.toml:7: steps: "), "{src}: {e}");
            assert!(e.contains(want), "{src}: {e}");
            assert!(!e.contains('\n'));
        }
    }

    #[test]
    fn names_must_be_new() {
        let e = parse_declared(
            "s.toml",
            ("staged-copy", 3),
            "",
            &steps(r#"["write"]"#),
            &["staged-copy".to_string()],
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("s.toml:3: name: "), "{e}");
    }
}
