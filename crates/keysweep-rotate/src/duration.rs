//! Grace periods as people write them: `7d`, `12h`, `30m`, `45s`, `1h30m`,
//! ISO 8601 (`P7D`), or plain seconds (`90`).

use jiff::{Span, SpanRelativeTo};
use std::fmt;

/// Why a duration did not parse.
#[derive(Debug, thiserror::Error)]
pub enum DurationError {
    /// Neither seconds nor a duration jiff understands.
    #[error("bad duration {input:?} (use e.g. 7d, 12h, 30m, 45s)")]
    Syntax {
        /// The text as given.
        input: String,
        /// jiff's reason.
        #[source]
        source: jiff::Error,
    },
    /// Below zero.
    #[error("duration {input:?} is negative")]
    Negative {
        /// The text as given.
        input: String,
    },
    /// Not a whole number of seconds.
    #[error("duration {input:?} is not a whole number of seconds")]
    Fractional {
        /// The text as given.
        input: String,
    },
    /// Does not fit in 64 bits of seconds (or in jiff's span limits).
    #[error("duration {input:?} is too long")]
    TooLong {
        /// The text as given.
        input: String,
    },
}

/// Parses a duration into whole seconds: plain seconds (`90`) or a friendly
/// or ISO 8601 duration parsed by [`jiff::Span`] (`7d`, `12h`, `30m`, `45s`,
/// `1h30m`, `2 days`, `P7D`); a day is 24 hours, a week 7 days. Months and
/// years are refused (their length varies).
pub fn parse_duration(s: &str) -> Result<u64, DurationError> {
    // A leading `+` was always accepted (`+90`, `+5s`); jiff takes none
    // before a unit.
    let t = s.trim();
    let t = t.strip_prefix('+').unwrap_or(t);
    let input = || s.to_string();
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        return t
            .parse()
            .map_err(|_| DurationError::TooLong { input: input() });
    }
    let span: Span = t.parse().map_err(|source: jiff::Error| {
        // jiff reports out-of-range units as errors too: say "too long" for
        // digits-and-unit inputs whose number is merely huge.
        if t.len() > 1 && t[..t.len() - 1].trim().bytes().all(|b| b.is_ascii_digit()) {
            DurationError::TooLong { input: input() }
        } else {
            DurationError::Syntax {
                input: input(),
                source,
            }
        }
    })?;
    let d = span
        .to_duration(SpanRelativeTo::days_are_24_hours())
        .map_err(|source| DurationError::Syntax {
            input: input(),
            source,
        })?;
    if d.is_negative() {
        return Err(DurationError::Negative { input: input() });
    }
    if d.subsec_nanos() != 0 {
        return Err(DurationError::Fractional { input: input() });
    }
    u64::try_from(d.as_secs()).map_err(|_| DurationError::TooLong { input: input() })
}

/// Seconds in the largest unit that divides them: `7d`, `12h`, `30m`, `45s`
/// (`0s` for zero); [`parse_duration`] reads it back.
pub fn format_duration(secs: u64) -> String {
    DurationDisplay(secs).to_string()
}

struct DurationDisplay(u64);

impl fmt::Display for DurationDisplay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            0 => f.write_str("0s"),
            s if s % 86_400 == 0 => write!(f, "{}d", s / 86_400),
            s if s % 3_600 == 0 => write!(f, "{}h", s / 3_600),
            s if s % 60 == 0 => write!(f, "{}m", s / 60),
            s => write!(f, "{s}s"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("7d").unwrap(), 604_800);
        assert_eq!(parse_duration("12h").unwrap(), 43_200);
        assert_eq!(parse_duration("30m").unwrap(), 1_800);
        assert_eq!(parse_duration("45s").unwrap(), 45);
        assert_eq!(parse_duration("0s").unwrap(), 0);
        assert_eq!(parse_duration("90").unwrap(), 90);
        assert_eq!(parse_duration(" 90 ").unwrap(), 90);
        assert_eq!(parse_duration("+90").unwrap(), 90);
        assert_eq!(parse_duration("+5s").unwrap(), 5);
        assert_eq!(parse_duration("05s").unwrap(), 5);
        assert_eq!(parse_duration("7d ").unwrap(), 604_800);
        assert_eq!(parse_duration("7 d").unwrap(), 604_800);
        assert_eq!(parse_duration("1h30m").unwrap(), 5_400);
        assert_eq!(parse_duration("2 days").unwrap(), 172_800);
        assert_eq!(parse_duration("1w").unwrap(), 604_800);
        assert_eq!(parse_duration("P7D").unwrap(), 604_800);
        assert!(matches!(
            parse_duration("soon"),
            Err(DurationError::Syntax { .. })
        ));
        assert!(parse_duration("").is_err());
        assert!(matches!(
            parse_duration("99999999999999999999d"),
            Err(DurationError::TooLong { .. })
        ));
        assert!(matches!(
            parse_duration("99999999999999999999"),
            Err(DurationError::TooLong { .. })
        ));
        assert!(matches!(
            parse_duration("-5s"),
            Err(DurationError::Negative { .. })
        ));
        assert!(matches!(
            parse_duration("1.5s"),
            Err(DurationError::Fractional { .. })
        ));
        assert!(parse_duration("1mo").is_err());
        let e = parse_duration("soon").unwrap_err().to_string();
        assert!(e.contains("7d") && e.contains("soon"), "{e}");
    }

    #[test]
    fn formatted_durations_parse_back() {
        for secs in [0, 1, 59, 60, 90, 3_600, 5_400, 86_400, 604_800, 1_234_567] {
            assert_eq!(parse_duration(&format_duration(secs)).unwrap(), secs);
        }
        assert_eq!(format_duration(604_800), "7d");
        assert_eq!(format_duration(43_200), "12h");
        assert_eq!(format_duration(90), "90s");
    }
}
