//! Calendar formatting for task logs and snapshot lists. Simulated hosts run on UTC, so "local
//! time" is UTC here (documented in the module overview).

use crate::formats::text::utc_fields;

/// `YYYY-MM-DD HH:MM:SS` for a Unix time.
pub fn datetime(epoch: u64) -> String {
    let (y, m, d, hh, mm, ss) = utc_fields(epoch);
    format!("{y:04}-{m:02}-{d:02} {hh:02}:{mm:02}:{ss:02}")
}

/// C's `ctime` without its line end: `Tue Nov 14 22:13:20 2023` (day of month space-padded).
pub fn ctime(epoch: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]; // 1970-01-01 was a Thursday
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let (y, m, d, hh, mm, ss) = utc_fields(epoch);
    let weekday = DAYS[(epoch / 86_400 % 7) as usize];
    let month = MONTHS[(m as usize).saturating_sub(1) % 12];
    format!("{weekday} {month} {d:>2} {hh:02}:{mm:02}:{ss:02} {y}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(datetime(0), "1970-01-01 00:00:00");
        assert_eq!(datetime(1_700_000_000), "2023-11-14 22:13:20");
        assert_eq!(ctime(0), "Thu Jan  1 00:00:00 1970");
        assert_eq!(ctime(1_700_000_000), "Tue Nov 14 22:13:20 2023");
    }
}
