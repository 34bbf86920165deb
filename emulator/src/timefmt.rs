//! Calendar arithmetic and the timestamp formats AWS uses on the wire.
//!
//! SigV4 stamps (`20240131T235959Z`), ISO 8601 in XML and JSON bodies and in IAM `Date*` conditions,
//! all reduce to whole Unix seconds here. Hand-written (Howard Hinnant's civil-date algorithms) because
//! these few conversions are all we need and a date crate would cost more build time than it saves.

use std::fmt::Write as _;

/// Days since 1970-01-01 for a proleptic Gregorian date.
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The (year, month, day) of a day count since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

/// Unix seconds for a validated civil date and time, or `None` when a field is out of range.
pub fn unix_from_parts(y: i64, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> Option<i64> {
    if !(1..=12).contains(&mo) || d == 0 || d > days_in_month(y, mo) || h > 23 || mi > 59 || s > 60
    {
        return None;
    }
    Some(days_from_civil(y, mo, d) * 86_400 + i64::from(h * 3600 + mi * 60 + s))
}

/// Unix seconds as (year, month, day, hour, minute, second), UTC.
pub fn split(unix: i64) -> (i64, u32, u32, u32, u32, u32) {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400) as u32;
    let (y, mo, d) = civil_from_days(days);
    (y, mo, d, secs / 3600, secs / 60 % 60, secs % 60)
}

fn digits(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Parses a SigV4 stamp, `YYYYMMDDTHHMMSSZ`.
pub fn parse_amz_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    // ASCII only: the slices below must fall on character boundaries.
    if b.len() != 16 || !s.is_ascii() || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    unix_from_parts(
        i64::from(digits(&s[0..4])?),
        digits(&s[4..6])?,
        digits(&s[6..8])?,
        digits(&s[9..11])?,
        digits(&s[11..13])?,
        digits(&s[13..15])?,
    )
}

/// Formats a SigV4 stamp, `YYYYMMDDTHHMMSSZ`.
pub fn format_amz_date(unix: i64) -> String {
    let (y, mo, d, h, mi, s) = split(unix);
    format!("{y:04}{mo:02}{d:02}T{h:02}{mi:02}{s:02}Z")
}

/// Formats ISO 8601 with milliseconds, as EC2 and the query APIs write timestamps: `2024-01-31T23:59:59.000Z`.
pub fn format_iso8601(unix: i64) -> String {
    let mut out = String::with_capacity(24);
    write_iso8601(&mut out, unix, Some(0));
    out
}

/// Appends `2024-01-31T23:59:59` and then `.mmmZ` (`fraction` in ms) or, without one, `Z`.
/// The digits are written by hand: padded `format!` costs thousands of instructions a timestamp,
/// which showed in every page of instances the serializer writes.
pub fn write_iso8601(buf: &mut String, unix: i64, fraction: Option<u32>) {
    let (y, mo, d, h, mi, s) = split(unix);
    let year = match u32::try_from(y) {
        Ok(year) if year <= 9999 => year,
        _ => {
            // Outside years 0–9999: the slow, general way.
            let _ = write!(buf, "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}");
            match fraction {
                Some(f) => {
                    let _ = write!(buf, ".{f:03}Z");
                }
                None => buf.push('Z'),
            }
            return;
        }
    };
    let mut out = [0u8; 24];
    let mut n = 0;
    let mut put = |v: u32, width: u32, sep: u8| {
        for i in (0..width).rev() {
            out[n] = b'0' + (v / 10u32.pow(i) % 10) as u8;
            n += 1;
        }
        out[n] = sep;
        n += 1;
    };
    put(year, 4, b'-');
    put(mo, 2, b'-');
    put(d, 2, b'T');
    put(h, 2, b':');
    put(mi, 2, b':');
    match fraction {
        Some(f) => {
            put(s, 2, b'.');
            put(f, 3, b'Z');
        }
        None => put(s, 2, b'Z'),
    }
    buf.push_str(std::str::from_utf8(&out[..n]).unwrap_or(""));
}

/// Parses the ISO 8601 forms found in policies and requests: `2024-01-31`, `2024-01-31T23:59:59Z`,
/// with optional fractional seconds (truncated) and a `Z` or `±HH:MM` offset. Returns Unix seconds.
pub fn parse_iso8601(s: &str) -> Option<i64> {
    let (date, rest) = match s.find('T') {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let mut dp = date.split('-');
    let y = i64::from(digits(dp.next()?)?);
    let mo = digits(dp.next()?)?;
    let d = digits(dp.next()?)?;
    if dp.next().is_some() || date.len() != 10 {
        return None;
    }
    let Some(rest) = rest else {
        return unix_from_parts(y, mo, d, 0, 0, 0);
    };
    let (clock, offset) = if let Some(c) = rest.strip_suffix('Z') {
        (c, 0)
    } else if let Some(i) = rest.rfind(['+', '-']) {
        let sign: i64 = if rest.as_bytes()[i] == b'-' { -1 } else { 1 };
        let off = &rest[i + 1..];
        let (oh, om) = off
            .split_once(':')
            .unwrap_or((off.get(..2)?, off.get(2..)?));
        (
            &rest[..i],
            sign * i64::from(digits(oh)? * 3600 + digits(om)? * 60),
        )
    } else {
        (rest, 0)
    };
    let clock = clock.split('.').next()?;
    let mut cp = clock.split(':');
    let h = digits(cp.next()?)?;
    let mi = digits(cp.next()?)?;
    let sec = match cp.next() {
        Some(v) => digits(v)?,
        None => 0,
    };
    if cp.next().is_some() {
        return None;
    }
    Some(unix_from_parts(y, mo, d, h, mi, sec)? - offset)
}

/// The current wall-clock time in Unix seconds.
pub fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amz_date_round_trips() {
        let t = parse_amz_date("20150830T123600Z").unwrap();
        assert_eq!(t, 1_440_938_160);
        assert_eq!(format_amz_date(t), "20150830T123600Z");
        assert_eq!(parse_amz_date("20150230T123600Z"), None);
        assert_eq!(parse_amz_date("2015083OT123600Z"), None);
    }

    #[test]
    fn iso8601_forms() {
        assert_eq!(parse_iso8601("2015-08-30T12:36:00Z"), Some(1_440_938_160));
        assert_eq!(
            parse_iso8601("2015-08-30T12:36:00.123Z"),
            Some(1_440_938_160)
        );
        assert_eq!(
            parse_iso8601("2015-08-30T14:36:00+02:00"),
            Some(1_440_938_160)
        );
        assert_eq!(parse_iso8601("2015-08-30"), Some(1_440_892_800));
        assert_eq!(parse_iso8601("2015-13-30"), None);
        assert_eq!(parse_iso8601("yesterday"), None);
        assert_eq!(format_iso8601(1_440_938_160), "2015-08-30T12:36:00.000Z");
    }

    #[test]
    fn civil_round_trip_over_centuries() {
        for days in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
