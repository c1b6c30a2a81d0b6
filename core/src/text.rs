//! The one check of free text, shared by the API's `NonBlankText`, the widget's bodies and the
//! services: at most `max` characters, no NUL, and — when required — not blank.

/// Why a text was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextProblem {
    TooLong,
    Nul,
    Blank,
}

impl TextProblem {
    /// The reason in words, for a message that names the field first.
    pub fn describe(self, max: usize) -> String {
        match self {
            TextProblem::TooLong => format!("must be at most {max} characters"),
            TextProblem::Nul => "must not contain NUL characters".into(),
            TextProblem::Blank => "must not be empty or blank".into(),
        }
    }
}

/// Checks `s` against `max` characters, NUL and, unless `blank_ok`, blankness.
pub fn check(s: &str, max: usize, blank_ok: bool) -> Result<(), TextProblem> {
    if s.chars().count() > max {
        return Err(TextProblem::TooLong);
    }
    if s.contains('\0') {
        return Err(TextProblem::Nul);
    }
    if !blank_ok && s.trim().is_empty() {
        return Err(TextProblem::Blank);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_long_nul_and_blank() {
        assert_eq!(check("abc", 3, false), Ok(()));
        assert_eq!(check("abcd", 3, true), Err(TextProblem::TooLong));
        assert_eq!(check("a\0", 3, true), Err(TextProblem::Nul));
        assert_eq!(check(" ", 3, false), Err(TextProblem::Blank));
        assert_eq!(check("", 3, true), Ok(()));
    }
}
