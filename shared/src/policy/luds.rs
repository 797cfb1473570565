//! LUDS: length and character classes (lower, upper, digit, symbol).

use serde::Serialize;

/// What the password has and what it lacks; every class is reported at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct LudsRequirements {
    pub has_lower_case: bool,
    pub has_upper_case: bool,
    pub has_digit: bool,
    pub has_symbol: bool,
    /// Classes still needed to reach the configured complexity.
    pub missing_complexity: usize,
    /// Characters still needed to reach the configured length (code points).
    pub missing_characters: usize,
}

impl LudsRequirements {
    pub fn evaluate(password: &str, min_length: usize, min_complexity: usize) -> Self {
        let (mut lower, mut upper, mut digit, mut symbol) = (false, false, false, false);
        let mut length = 0;
        for c in password.chars() {
            length += 1;
            if c.is_lowercase() {
                lower = true;
            } else if c.is_uppercase() {
                upper = true;
            } else if c.is_ascii_digit() {
                digit = true;
            } else {
                symbol = true;
            }
        }
        let classes = [lower, upper, digit, symbol].iter().filter(|&&b| b).count();
        Self {
            has_lower_case: lower,
            has_upper_case: upper,
            has_digit: digit,
            has_symbol: symbol,
            missing_complexity: min_complexity.saturating_sub(classes),
            missing_characters: min_length.saturating_sub(length),
        }
    }

    pub fn is_met(&self) -> bool {
        self.missing_complexity == 0 && self.missing_characters == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_every_class_at_once() {
        let r = LudsRequirements::evaluate("abc", 8, 4);
        assert!(r.has_lower_case && !r.has_upper_case && !r.has_digit && !r.has_symbol);
        assert_eq!((r.missing_complexity, r.missing_characters), (3, 5));
        assert!(!r.is_met());
    }

    #[test]
    fn counts_code_points_and_unicode_classes() {
        let r = LudsRequirements::evaluate("Ää1🔑ééééé", 10, 4);
        assert!(r.has_lower_case && r.has_upper_case && r.has_digit && r.has_symbol);
        assert_eq!(r.missing_characters, 1);
        assert!(LudsRequirements::evaluate("Aa1!aaaa", 8, 4).is_met());
    }

    #[test]
    fn agrees_with_a_simple_reference_on_many_inputs() {
        // Exhaustive over a small alphabet: each class's presence and the counts follow directly.
        let alphabet = ['a', 'B', '7', '#', 'ß', 'Ω'];
        let mut stack = vec![String::new()];
        while let Some(s) = stack.pop() {
            let r = LudsRequirements::evaluate(&s, 3, 4);
            let classes = [r.has_lower_case, r.has_upper_case, r.has_digit, r.has_symbol]
                .iter()
                .filter(|b| **b)
                .count();
            assert_eq!(r.has_digit, s.contains('7'));
            assert_eq!(r.has_symbol, s.contains('#'));
            assert_eq!(r.has_lower_case, s.contains('a') || s.contains('ß'));
            assert_eq!(r.has_upper_case, s.contains('B') || s.contains('Ω'));
            assert_eq!(r.missing_complexity, 4 - classes);
            assert_eq!(r.missing_characters, 3usize.saturating_sub(s.chars().count()));
            if s.chars().count() < 4 {
                stack.extend(alphabet.iter().map(|c| format!("{s}{c}")));
            }
        }
    }
}
