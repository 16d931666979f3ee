//! Virtual time: integer microseconds, and the conversions at the input edge.
//!
//! Inputs speak milliseconds (fractional allowed, microsecond precision); the engine
//! keeps `Micros`. `us_to_ms` followed by `ms_to_us` is the identity for every time the
//! engine can reach, so a recorded injection time survives a round trip through JSON.

use crate::error::InputError;
use crate::limits::MAX_TIME_US;

/// Simulated time or duration in microseconds.
pub type Micros = u64;

pub const US_PER_MS: u64 = 1_000;
pub const US_PER_S: u64 = 1_000_000;

/// Converts a millisecond input to microseconds, rejecting negative, non-finite and
/// over-limit values with a message naming `field`.
pub fn ms_to_us(ms: f64, field: &str) -> Result<Micros, InputError> {
    if !ms.is_finite() {
        return Err(InputError::new(
            field,
            format!("must be a finite number of milliseconds, got {ms}"),
        ));
    }
    if ms < 0.0 {
        return Err(InputError::new(field, format!("must not be negative, got {ms} ms")));
    }
    let us = (ms * US_PER_MS as f64).round();
    if us > MAX_TIME_US as f64 {
        return Err(InputError::new(
            field,
            format!("{ms} ms is past the limit of {} ms (30 days)", MAX_TIME_US / US_PER_MS),
        ));
    }
    Ok(us as Micros)
}

/// Microseconds to milliseconds for output.
pub fn us_to_ms(us: Micros) -> f64 {
    us as f64 / US_PER_MS as f64
}

/// Parses a human duration such as `30s`, `1500ms`, `250us`, `2m`, `1h` or a bare number
/// of milliseconds, for the command line.
pub fn parse_duration(text: &str) -> Result<Micros, InputError> {
    let t = text.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let value: f64 = number.parse().map_err(|_| {
        InputError::new(
            "duration",
            format!("cannot read `{text}`: expected e.g. 30s, 1500ms, 2m"),
        )
    })?;
    let ms = match unit.trim() {
        "" | "ms" => value,
        "us" | "µs" => value / 1_000.0,
        "s" => value * 1_000.0,
        "m" | "min" => value * 60_000.0,
        "h" => value * 3_600_000.0,
        "d" => value * 86_400_000.0,
        other => {
            return Err(InputError::new(
                "duration",
                format!("unknown unit `{other}` in `{text}`: use us, ms, s, m, h or d"),
            ))
        }
    };
    ms_to_us(ms, "duration")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ms_round_trip_is_exact() {
        for us in [0u64, 1, 999, 1_001, 123_456_789, MAX_TIME_US] {
            assert_eq!(ms_to_us(us_to_ms(us), "t").unwrap(), us);
        }
    }

    #[test]
    fn bad_durations_name_the_field() {
        assert!(ms_to_us(-1.0, "duration_ms")
            .unwrap_err()
            .to_string()
            .starts_with("duration_ms:"));
        assert!(ms_to_us(f64::NAN, "x").is_err());
        assert!(ms_to_us(f64::INFINITY, "x").is_err());
    }

    #[test]
    fn parses_durations() {
        assert_eq!(parse_duration("30s").unwrap(), 30 * US_PER_S);
        assert_eq!(parse_duration("1500ms").unwrap(), 1_500_000);
        assert_eq!(parse_duration("2m").unwrap(), 120 * US_PER_S);
        assert_eq!(parse_duration("250").unwrap(), 250_000);
        assert!(parse_duration("ten").is_err());
        assert!(parse_duration("5y").is_err());
    }
}
