//! Large counts in text reports, grouped by thousands (`12,345`) as the
//! progress bar shows them. JSON reports keep plain numbers.

/// `n` with a comma between each group of three digits.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(d);
    }
    out
}

/// `n` grouped by thousands and its noun: `one` when `n` is 1, `many`
/// otherwise (`1 execution`, `12,345 executions`).
pub fn count(n: impl Into<u64>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{} {}", thousands(n), if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::{count, thousands};

    #[test]
    fn a_count_takes_the_singular_only_for_one() {
        assert_eq!(count(0u64, "class", "classes"), "0 classes");
        assert_eq!(count(1u64, "class", "classes"), "1 class");
        assert_eq!(count(2_500u64, "branch", "branches"), "2,500 branches");
    }

    #[test]
    fn groups_of_three_from_the_right() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1780), "1,780");
        assert_eq!(thousands(28_142), "28,142");
        assert_eq!(thousands(6_915_000), "6,915,000");
        assert_eq!(thousands(u64::MAX), "18,446,744,073,709,551,615");
    }
}
