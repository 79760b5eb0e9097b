//! `prefixrace list`: the built-in scenarios and strategies.

use prefixrace::scenario;
use prefixrace::strategy::{builtin_strategies, named_strategies};
use prefixrace::Result;

/// Runs `prefixrace list`.
pub fn run() -> Result<i32> {
    println!("built-in scenarios (use as builtin:NAME):");
    for name in scenario::builtin::names() {
        let s = scenario::builtin::load(name)?;
        println!("  {name:<18} {}", s.description);
    }
    println!("strategies:");
    for s in builtin_strategies() {
        println!("  {:<18} {}", s.name(), s.summary());
    }
    println!("other installers (by name only; not in --strategy all):");
    for s in named_strategies() {
        println!("  {:<18} {}", s.name(), s.summary());
    }
    Ok(0)
}
