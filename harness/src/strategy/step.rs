//! The steps a strategy is composed of, as typed values, and the rules
//! of their order.
//!
//! A `[[strategy]]` table in a scenario ([`super::parse_declared`]) and a
//! strategy built in code ([`DeclaredStrategy::from_steps`]) are both a
//! list of [`Step`]s checked by the same rules, so they compose to the same
//! [`Pipeline`] and fail with the same messages.
//!
//! ```
//! use prefixrace::strategy::{CpOnExist, DeclaredStrategy, Step};
//!
//! let merging = DeclaredStrategy::from_steps(
//!     "merging-copy",
//!     [Step::Stage, Step::Compile, Step::Copy { on_exist: CpOnExist::Merge }],
//! )
//! .unwrap();
//! assert_eq!(merging.steps, ["stage", "compile", "copy{on-exist=merge}"]);
//!
//! let wrong = DeclaredStrategy::from_steps("copy-first", [Step::copy(), Step::Stage]);
//! assert!(wrong.unwrap_err().to_string().contains("put `stage` before it"));
//! ```

use super::pipeline::{Delivery, Pipeline};
use super::reserved_names;
use super::DeclaredStrategy;
use crate::error::{Error, Result};
use crate::job::{Collision, CpOnExist};

/// The step names, in the order they may appear.
pub const STEP_NAMES: &[&str] = &["lock", "stage", "compile", "copy", "merge", "write"];

/// One step of a strategy: the typed form of one entry of a
/// `[[strategy]]` table's `steps`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// `lock` (first, optional): hold the exclusive prefix lock for the
    /// whole install.
    Lock,
    /// `stage`: pip into a private staging root first.
    Stage,
    /// `compile` (optional): byte-compile, into the stage after `stage`, in
    /// the prefix after `write`.
    Compile,
    /// `copy`: `cp -Rp STAGE/. PREFIX` (needs `stage`).
    Copy {
        /// `on-exist`: what cp does when a destination exists.
        on_exist: CpOnExist,
    },
    /// `merge`: portage's collision check and file-by-file merge (needs `stage`).
    Merge {
        /// `collision`: what counts as a collision.
        collision: Collision,
    },
    /// `write`: pip writes straight into the prefix (no `stage`).
    Write {
        /// `atomic`: a temporary name and `rename` instead of writing in place.
        atomic: bool,
    },
}

impl Step {
    /// `copy` with its default, `on-exist = "fail"` (GNU cp).
    pub fn copy() -> Step {
        Step::Copy {
            on_exist: CpOnExist::Fail,
        }
    }

    /// `merge` with its default, `collision = "protect-owned"`.
    pub fn merge() -> Step {
        Step::Merge {
            collision: Collision::ProtectOwned,
        }
    }

    /// `write` with its default, `atomic = false` (pip 21.1.2).
    pub fn write() -> Step {
        Step::Write { atomic: false }
    }

    /// The step's name, as in [`STEP_NAMES`].
    pub fn name(self) -> &'static str {
        match self {
            Step::Lock => "lock",
            Step::Stage => "stage",
            Step::Compile => "compile",
            Step::Copy { .. } => "copy",
            Step::Merge { .. } => "merge",
            Step::Write { .. } => "write",
        }
    }

    /// The step rendered canonically, with its options: `copy{on-exist=replace}`.
    pub fn render(self) -> String {
        match self {
            Step::Lock | Step::Stage | Step::Compile => self.name().to_string(),
            Step::Copy { on_exist } => format!("copy{{on-exist={}}}", on_exist.name()),
            Step::Merge { collision } => format!("merge{{collision={}}}", collision.name()),
            Step::Write { atomic } => format!("write{{atomic={atomic}}}"),
        }
    }

    fn delivery(self) -> Option<Delivery> {
        match self {
            Step::Copy { on_exist } => Some(Delivery::Copy { on_exist }),
            Step::Merge { collision } => Some(Delivery::Merge { collision }),
            Step::Write { atomic } => Some(Delivery::Write { atomic }),
            Step::Lock | Step::Stage | Step::Compile => None,
        }
    }
}

impl DeclaredStrategy {
    /// A strategy composed of `steps` in code, checked by the rules of a
    /// `[[strategy]]` table (see [`crate::strategy::parse_declared`]). The
    /// built-in strategies' names are reserved. A mistake is one error
    /// naming the strategy and the step: `strategy "mine": steps[1]: …`.
    pub fn from_steps(
        name: impl Into<String>,
        steps: impl IntoIterator<Item = Step>,
    ) -> Result<DeclaredStrategy> {
        let name = name.into();
        let reserved = reserved_names();
        let located: Vec<(Step, usize)> = steps.into_iter().map(|s| (s, 0)).collect();
        let file = format!("strategy {name:?}");
        compose(&file, (&name, 0), "", &located, &reserved)
    }

    /// The same strategy with `summary` as its one-line description.
    pub fn with_summary(mut self, summary: impl Into<String>) -> DeclaredStrategy {
        self.summary = summary.into();
        self
    }
}

/// Composes `steps` (each with the line it is on, 0 when it has none) into
/// the strategy `name`; errors name `file`, the line and the field (`steps`,
/// or `steps[i]` for a step without a line). `reserved` are names already taken.
pub(crate) fn compose(
    file: &str,
    name: (&str, usize),
    summary: &str,
    steps: &[(Step, usize)],
    reserved: &[String],
) -> Result<DeclaredStrategy> {
    let (name, name_line) = name;
    if name.trim().is_empty() || name == "all" {
        return Err(Error::input(
            file,
            name_line,
            "name",
            format!("{name:?} cannot name a strategy"),
        ));
    }
    if reserved.iter().any(|r| r == name) {
        return Err(Error::input(
            file,
            name_line,
            "name",
            format!("strategy {name:?} is already defined (built-in names are reserved)"),
        ));
    }
    if steps.is_empty() {
        return Err(Error::input(
            file,
            name_line,
            "steps",
            format!("strategy {name:?} needs steps, e.g. [\"stage\", \"compile\", \"copy\"]"),
        ));
    }
    let field = |i: usize, line: usize| match line {
        0 => format!("steps[{i}]"),
        _ => "steps".to_string(),
    };
    let mut order = Order::default();
    for (i, (step, line)) in steps.iter().enumerate() {
        order
            .push(i, *step)
            .map_err(|m| Error::input(file, *line, field(i, *line), m))?;
    }
    let (last, last_line) = steps
        .last()
        .map(|(_, l)| (steps.len() - 1, *l))
        .unwrap_or((0, name_line));
    let pipeline = order
        .finish()
        .map_err(|m| Error::input(file, last_line, field(last, last_line), m))?;
    let rendered: Vec<String> = steps.iter().map(|(s, _)| s.render()).collect();
    Ok(DeclaredStrategy {
        name: name.to_string(),
        summary: if summary.is_empty() {
            format!("declared: {}", rendered.join(", "))
        } else {
            summary.to_string()
        },
        steps: rendered,
        pipeline,
    })
}

/// Checks the order of steps as they come.
#[derive(Debug, Default)]
struct Order {
    lock: bool,
    stage: bool,
    compile: bool,
    delivery: Option<Delivery>,
}

impl Order {
    fn push(&mut self, index: usize, step: Step) -> std::result::Result<(), String> {
        match step {
            Step::Lock if index != 0 => {
                return Err("`lock` must be the first step: the lock is held for the whole install".into())
            }
            Step::Lock => self.lock = true,
            Step::Stage if self.stage => return Err("`stage` appears twice".into()),
            Step::Stage if self.delivery.is_some() => {
                return Err("`stage` must come before copy or merge".into())
            }
            Step::Stage => self.stage = true,
            Step::Compile if self.compile => return Err("`compile` appears twice".into()),
            Step::Compile => match self.delivery {
                Some(Delivery::Write { .. }) => self.compile = true,
                Some(_) => {
                    return Err(
                        "`compile` after copy or merge is not supported: compile into the stage (put it between `stage` and the copy or merge)"
                            .into(),
                    )
                }
                None if self.stage => self.compile = true,
                None => {
                    return Err(
                        "`compile` needs something to compile: put it after `stage` or after `write`"
                            .into(),
                    )
                }
            },
            Step::Copy { .. } | Step::Merge { .. } | Step::Write { .. } => {
                let d = step.delivery().expect("a delivery step");
                if self.delivery.is_some() {
                    return Err("only one of copy, merge or write may deliver the files".into());
                }
                if d.needs_stage() && !self.stage {
                    return Err(format!(
                        "`{}` copies from a staging root: put `stage` before it",
                        step.render()
                    ));
                }
                if !d.needs_stage() && self.stage {
                    return Err(
                        "`write` installs from the wheel and cannot follow `stage`: use copy or merge"
                            .into(),
                    );
                }
                self.delivery = Some(d);
            }
        }
        Ok(())
    }

    fn finish(self) -> std::result::Result<Pipeline, String> {
        let delivery = self.delivery.ok_or_else(|| {
            "the steps deliver no files: end with copy, merge or write".to_string()
        })?;
        Ok(Pipeline {
            lock: self.lock,
            compile: self.compile,
            delivery,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_steps_compose_like_the_built_ins() {
        let d = DeclaredStrategy::from_steps(
            "mine",
            [Step::Lock, Step::Stage, Step::Compile, Step::merge()],
        )
        .unwrap();
        assert_eq!(
            d.pipeline,
            Pipeline {
                lock: true,
                compile: true,
                delivery: Delivery::Merge {
                    collision: Collision::ProtectOwned
                }
            }
        );
        assert_eq!(
            d.summary,
            "declared: lock, stage, compile, merge{collision=protect-owned}"
        );
    }

    #[test]
    fn mistakes_name_the_strategy_and_the_step() {
        let e = DeclaredStrategy::from_steps("mine", [Step::Stage, Step::write()])
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "strategy \"mine\": steps[1]: `write` installs from the wheel and cannot follow `stage`: use copy or merge"
        );
        let e = DeclaredStrategy::from_steps("mine", [Step::Stage])
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("strategy \"mine\": steps[0]: the steps deliver no files"));
        let e = DeclaredStrategy::from_steps("staged-copy", [Step::write()])
            .unwrap_err()
            .to_string();
        assert!(e.contains("built-in names are reserved"), "{e}");
        let e = DeclaredStrategy::from_steps("none", [])
            .unwrap_err()
            .to_string();
        assert!(e.contains("needs steps"), "{e}");
    }
}
