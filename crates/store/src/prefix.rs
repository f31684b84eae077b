//! Prefix matching as an index range: `col >= prefix AND col < upper_bound(prefix)`.
//!
//! `LIKE` would be shorter, but SQLite's LIKE folds ASCII case and PostgreSQL's does not, and
//! neither uses a plain index for it under every collation. Both backends compare our key
//! columns bytewise (SQLite's BINARY collation, PostgreSQL's `COLLATE "C"`), and bytewise order
//! of UTF-8 is code point order, so the range is exact.

/// The least string greater than every string that starts with `prefix`, or `None` when no
/// string is (the prefix is empty or made only of `char::MAX`), in which case the range has no
/// upper end.
///
/// Why this is the least bound: drop trailing `char::MAX`es (nothing follows them), then
/// replace the last remaining character `c` with its successor `c'`. A string with the prefix
/// continues with `c` where the bound has `c'`, so it sorts below; a string below the bound and
/// not below the prefix must agree on everything before `c` and have `c <= x < c'` there, so
/// `x == c` and it has the prefix after all (trailing `char::MAX`es included, as nothing
/// greater than `char::MAX` can sit in their place).
pub(crate) fn upper_bound(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        if let Some(next) = successor(last) {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// The next Unicode scalar value: surrogates are not characters, so U+D7FF is followed by
/// U+E000.
fn successor(c: char) -> Option<char> {
    match c {
        '\u{D7FF}' => Some('\u{E000}'),
        char::MAX => None,
        _ => char::from_u32(u32::from(c) + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn increments_the_last_character() {
        assert_eq!(upper_bound("abc").as_deref(), Some("abd"));
        assert_eq!(upper_bound("a").as_deref(), Some("b"));
        assert_eq!(upper_bound("+1555").as_deref(), Some("+1556"));
        assert_eq!(upper_bound("zé").as_deref(), Some("zê"));
        assert_eq!(upper_bound("\u{7F}").as_deref(), Some("\u{80}"));
        assert_eq!(upper_bound("x\u{D7FF}").as_deref(), Some("x\u{E000}"));
        assert_eq!(upper_bound("\u{FFFF}").as_deref(), Some("\u{10000}"));
    }

    #[test]
    fn skips_trailing_max_characters() {
        assert_eq!(upper_bound("ab\u{10FFFF}").as_deref(), Some("ac"));
        assert_eq!(upper_bound("a\u{10FFFF}\u{10FFFF}").as_deref(), Some("b"));
    }

    #[test]
    fn unbounded_cases() {
        assert_eq!(upper_bound(""), None);
        assert_eq!(upper_bound("\u{10FFFF}"), None);
        assert_eq!(upper_bound("\u{10FFFF}\u{10FFFF}"), None);
    }

    #[test]
    fn bound_brackets_exactly_the_strings_with_the_prefix() {
        let prefixes = ["a", "ab", "é", "a\u{10FFFF}", "\u{D7FF}", "zz"];
        let samples = [
            "",
            "a",
            "aa",
            "ab",
            "abc",
            "ac",
            "b",
            "é",
            "éa",
            "ê",
            "a\u{10FFFF}",
            "a\u{10FFFF}x",
            "b\u{10FFFF}",
            "\u{D7FF}",
            "\u{D7FF}\u{10FFFF}",
            "\u{E000}",
            "zz",
            "zz\u{10FFFF}",
            "zz\u{0}",
            "z{",
        ];
        for p in prefixes {
            let upper = upper_bound(p);
            for s in samples {
                // `str` ordering is bytewise, as on both databases.
                let in_range = s >= p && upper.as_deref().is_none_or(|u| s < u);
                assert_eq!(in_range, s.starts_with(p), "prefix {p:?}, sample {s:?}");
            }
        }
    }
}
