//! Retry policy of webhook deliveries: a fast schedule, then daily tries, for at most a week.

use std::time::Duration;

use chrono::{DateTime, Utc};

/// Delays after each failed attempt before the next: immediately (attempt 1 is immediate), then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h; after those, once a day.
pub const FAST_SCHEDULE: [Duration; 7] = [
    Duration::from_secs(5),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(2 * 3600),
    Duration::from_secs(5 * 3600),
    Duration::from_secs(10 * 3600),
    Duration::from_secs(10 * 3600),
];

/// Delay between tries once the fast schedule is used up.
pub const DAILY: Duration = Duration::from_secs(24 * 3600);

/// How long a delivery is retried before it fails for good, by default.
pub const DEFAULT_GIVE_UP_AFTER: chrono::Duration = chrono::Duration::days(7);

/// When to try again after `attempts` failures, from `now`, ±10 % jitter (`jitter` in [0,1), 0.5 = none); None once past `give_up_after`.
pub fn next_attempt(
    attempts: u32,
    first_attempt_at: DateTime<Utc>,
    now: DateTime<Utc>,
    give_up_after: chrono::Duration,
    jitter: f64,
) -> Option<DateTime<Utc>> {
    let base = match attempts {
        0 => Duration::ZERO,
        n => FAST_SCHEDULE.get(n as usize - 1).copied().unwrap_or(DAILY),
    };
    let jitter = if jitter.is_finite() {
        jitter.clamp(0.0, 1.0)
    } else {
        0.5
    };
    let factor = 1.0 + (jitter - 0.5) * 0.2;
    let delay = chrono::Duration::milliseconds((base.as_millis() as f64 * factor).round() as i64);
    let next = now + delay;
    (next - first_attempt_at <= give_up_after).then_some(next)
}

/// Honours a receiver's Retry-After (seconds or HTTP date; the caller applies it to 429/502/503/504), clamped to [1 s, 1 day].
pub fn retry_after(value: Option<&str>, now: DateTime<Utc>) -> Option<chrono::Duration> {
    let value = value?.trim();
    let wait = if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // All digits but too long for u64 still means "a very long time".
        let secs = value.parse::<u64>().unwrap_or(u64::MAX);
        chrono::Duration::seconds(secs.min(DAILY.as_secs()) as i64)
    } else {
        DateTime::parse_from_rfc2822(value)
            .ok()?
            .with_timezone(&Utc)
            - now
    };
    Some(wait.clamp(chrono::Duration::seconds(1), chrono::Duration::days(1)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, 1, 12, 0, 0).unwrap()
    }

    fn delay_after(attempts: u32, jitter: f64) -> chrono::Duration {
        let now = t0() + chrono::Duration::hours(1);
        next_attempt(attempts, t0(), now, DEFAULT_GIVE_UP_AFTER, jitter).unwrap() - now
    }

    #[test]
    fn exact_schedule_without_jitter() {
        let expected = [
            chrono::Duration::seconds(5),
            chrono::Duration::minutes(5),
            chrono::Duration::minutes(30),
            chrono::Duration::hours(2),
            chrono::Duration::hours(5),
            chrono::Duration::hours(10),
            chrono::Duration::hours(10),
            chrono::Duration::days(1),
            chrono::Duration::days(1),
            chrono::Duration::days(1),
        ];
        for (i, want) in expected.iter().enumerate() {
            assert_eq!(
                delay_after(i as u32 + 1, 0.5),
                *want,
                "after attempt {}",
                i + 1
            );
        }
        assert_eq!(delay_after(0, 0.5), chrono::Duration::zero());
    }

    #[test]
    fn jitter_stays_within_ten_percent() {
        for attempts in 1..=9 {
            let base = delay_after(attempts, 0.5).num_milliseconds() as f64;
            for jitter in [0.0, 0.1, 0.25, 0.75, 0.999_999, rand::random::<f64>()] {
                let d = delay_after(attempts, jitter).num_milliseconds() as f64;
                assert!(
                    d >= base * 0.9 - 1.0 && d <= base * 1.1 + 1.0,
                    "{attempts} {jitter}"
                );
            }
            let low = delay_after(attempts, 0.0).num_milliseconds() as f64;
            assert!((low - base * 0.9).abs() <= 1.0);
        }
        // Out-of-range input cannot stretch the delay beyond the band.
        let base = delay_after(8, 0.5).num_milliseconds() as f64;
        for jitter in [-3.0, 7.0, f64::NAN, f64::INFINITY] {
            let d = delay_after(8, jitter).num_milliseconds() as f64;
            assert!(d >= base * 0.9 && d <= base * 1.1, "{jitter}");
        }
    }

    #[test]
    fn gives_up_after_the_window() {
        let first = t0();
        let week = DEFAULT_GIVE_UP_AFTER;
        let now = first + chrono::Duration::hours(156); // 6.5 days
        assert_eq!(next_attempt(8, first, now, week, 0.5), None);
        let sooner = next_attempt(3, first, now, week, 0.5);
        assert_eq!(sooner, Some(now + chrono::Duration::minutes(30)));
        // Exactly at the limit is still allowed; a millisecond past is not.
        let edge = first + chrono::Duration::days(6);
        assert_eq!(
            next_attempt(9, first, edge, week, 0.5),
            Some(first + chrono::Duration::days(7))
        );
        let past = edge + chrono::Duration::milliseconds(1);
        assert_eq!(next_attempt(9, first, past, week, 0.5), None);
        assert_eq!(
            next_attempt(1, first, first, chrono::Duration::seconds(1), 0.5),
            None
        );
    }

    #[test]
    fn retry_after_seconds() {
        let now = t0();
        assert_eq!(
            retry_after(Some("120"), now),
            Some(chrono::Duration::seconds(120))
        );
        assert_eq!(
            retry_after(Some(" 7 "), now),
            Some(chrono::Duration::seconds(7))
        );
        assert_eq!(
            retry_after(Some("0"), now),
            Some(chrono::Duration::seconds(1))
        );
        assert_eq!(
            retry_after(Some("999999"), now),
            Some(chrono::Duration::days(1))
        );
        let huge = "99999999999999999999999999";
        assert_eq!(
            retry_after(Some(huge), now),
            Some(chrono::Duration::days(1))
        );
    }

    #[test]
    fn retry_after_http_date() {
        let now = Utc.with_ymd_and_hms(2015, 10, 21, 7, 0, 0).unwrap();
        let date = Some("Wed, 21 Oct 2015 07:28:00 GMT");
        assert_eq!(retry_after(date, now), Some(chrono::Duration::minutes(28)));
        let later = now + chrono::Duration::hours(1);
        assert_eq!(retry_after(date, later), Some(chrono::Duration::seconds(1)));
        let long_before = now - chrono::Duration::days(3);
        assert_eq!(
            retry_after(date, long_before),
            Some(chrono::Duration::days(1))
        );
    }

    #[test]
    fn retry_after_absent_or_garbage() {
        let now = t0();
        for bad in [
            "",
            "  ",
            "soon",
            "-5",
            "1.5",
            "12s",
            "21 Oct 2015",
            "Wed, 32 Oct 2015 07:28:00 GMT",
        ] {
            assert_eq!(retry_after(Some(bad), now), None, "{bad:?}");
        }
        assert_eq!(retry_after(None, now), None);
    }
}
