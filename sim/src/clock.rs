//! Calendar formatting for task logs and snapshot lists. Simulated hosts run on UTC, so "local
//! time" is UTC here (documented in the module overview).

use crate::formats::text::utc_fields;

/// `YYYY-MM-DD HH:MM:SS` for a Unix time.
pub fn datetime(epoch: u64) -> String {
    let (y, m, d, hh, mm, ss) = utc_fields(epoch);
    format!("{y:04}-{m:02}-{d:02} {hh:02}:{mm:02}:{ss:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(datetime(0), "1970-01-01 00:00:00");
        assert_eq!(datetime(1_700_000_000), "2023-11-14 22:13:20");
    }
}
