//! Points in time: conversions between unix milliseconds and the ISO-8601 strings Botpress uses
//! for `createdAt`/`updatedAt` (the same form as JavaScript's `Date.prototype.toISOString`), and
//! the "now" a caller may pass in either form. There is no clock here: callers pass the time.
//!
//! Hand-written instead of using the `time` crate: only UTC and one textual form are needed, and
//! the crate's formatting and parsing machinery cost about 15 KB of the `.wasm`. The day-count
//! conversions are the standard proleptic-Gregorian "era" arithmetic (400-year cycles).

use serde::Deserialize;

use crate::decode::InputError;

/// A point in time given by the caller: unix milliseconds or an ISO-8601 string (a JavaScript
/// `Date` arrives as the latter after `JSON.stringify`).
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(
    untagged,
    expecting = "expected unix milliseconds or an ISO-8601 date-time"
)]
pub enum TimeInput {
    Millis(f64),
    Iso(String),
}

impl TimeInput {
    /// Unix milliseconds; the error names `path`.
    pub fn to_ms(&self, path: &str) -> Result<i64, InputError> {
        match self {
            TimeInput::Millis(ms) if ms.is_finite() => Ok(*ms as i64),
            TimeInput::Millis(_) => Err(InputError::new(path, "must be a finite number")),
            TimeInput::Iso(text) => ms_from_iso(text).ok_or_else(|| {
                InputError::new(
                    path,
                    format!("{} is not an ISO-8601 date-time", crate::text::quote(text)),
                )
            }),
        }
    }
}

const MS_PER_DAY: i64 = 86_400_000;
/// 0001-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z.
const MIN_MS: i64 = -62_135_596_800_000;
const MAX_MS: i64 = 253_402_300_799_999;

/// Formats unix milliseconds as `YYYY-MM-DDTHH:MM:SS.mmmZ`; out-of-range values are clamped to
/// years 1 to 9999 so this never fails.
pub fn iso_from_ms(ms: i64) -> String {
    let ms = ms.clamp(MIN_MS, MAX_MS);
    let (days, in_day) = (ms.div_euclid(MS_PER_DAY), ms.rem_euclid(MS_PER_DAY));
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000
    )
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` (RFC 3339; a space may replace the `T`)
/// to unix milliseconds. Fractions beyond milliseconds are truncated.
pub fn ms_from_iso(text: &str) -> Option<i64> {
    let b = text.trim().as_bytes();
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let digits = b.get(range)?;
        digits.iter().all(u8::is_ascii_digit).then(|| {
            digits
                .iter()
                .fold(0, |acc, d| acc * 10 + i64::from(d - b'0'))
        })
    };
    let sep = |at: usize, allowed: &[u8]| b.get(at).is_some_and(|c| allowed.contains(c));
    if !(sep(4, b"-") && sep(7, b"-") && sep(10, b"Tt ") && sep(13, b":") && sep(16, b":")) {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut at = 19;
    let mut millis = 0;
    if b.get(at) == Some(&b'.') {
        let digits = b[at + 1..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        if digits == 0 {
            return None;
        }
        let scale = [100, 10, 1];
        for (i, d) in b[at + 1..at + 1 + digits.min(3)].iter().enumerate() {
            millis += i64::from(d - b'0') * scale[i];
        }
        at += 1 + digits;
    }
    let offset_minutes = match (b.get(at), b.len() - at) {
        (Some(b'Z' | b'z'), 1) => 0,
        (Some(sign @ (b'+' | b'-')), 6) if sep(at + 3, b":") => {
            let minutes = num(at + 1..at + 3)? * 60 + num(at + 4..at + 6)?;
            if *sign == b'-' {
                -minutes
            } else {
                minutes
            }
        }
        _ => return None,
    };
    let seconds = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second
        - offset_minutes * 60;
    Some(seconds * 1000 + millis)
}

/// Unix seconds (the connector's float timestamps) to milliseconds, `None` for unset/invalid.
pub fn ms_from_unix_seconds(seconds: f64) -> Option<i64> {
    (seconds.is_finite() && seconds > 0.0).then(|| (seconds * 1000.0).round() as i64)
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic-Gregorian date.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    // Count years from March so the leap day is the last day of the "year".
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date `days` after 1970-01-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_to_iso_string() {
        assert_eq!(iso_from_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso_from_ms(1_764_000_000_123), "2025-11-24T16:00:00.123Z");
        assert_eq!(iso_from_ms(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(iso_from_ms(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(iso_from_ms(i64::MAX), "9999-12-31T23:59:59.999Z");
        assert_eq!(iso_from_ms(i64::MIN), "0001-01-01T00:00:00.000Z");
    }

    #[test]
    fn parses_botpress_forms() {
        assert_eq!(
            ms_from_iso("2025-11-24T16:00:00.123Z"),
            Some(1_764_000_000_123)
        );
        assert_eq!(ms_from_iso("2023-11-07T05:31:56Z"), Some(1_699_335_116_000));
        assert_eq!(
            ms_from_iso("2023-11-07T07:31:56+02:00"),
            Some(1_699_335_116_000)
        );
        assert_eq!(
            ms_from_iso("2023-11-07 05:31:56.1234567Z"),
            Some(1_699_335_116_123)
        );
        assert_eq!(ms_from_iso("2024-02-29T00:00:00Z"), Some(1_709_164_800_000));
    }

    #[test]
    fn rejects_malformed_dates() {
        for bad in [
            "yesterday",
            "",
            "2023-02-29T00:00:00Z",
            "2023-13-01T00:00:00Z",
            "2023-11-07T24:00:00Z",
            "2023-11-07T05:31:56",
            "2023-11-07T05:31:56.Z",
            "2023-11-07T05:31:56+0200",
            "２023-11-07T05:31:56Z",
            "2023-11-07T05:31:56Zjunk",
        ] {
            assert_eq!(ms_from_iso(bad), None, "{bad}");
        }
    }

    #[test]
    fn unix_seconds() {
        assert_eq!(ms_from_unix_seconds(1.5), Some(1500));
        assert_eq!(ms_from_unix_seconds(0.0), None);
        assert_eq!(ms_from_unix_seconds(f64::NAN), None);
    }
}
