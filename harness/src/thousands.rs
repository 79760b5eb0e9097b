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

#[cfg(test)]
mod tests {
    use super::thousands;

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
