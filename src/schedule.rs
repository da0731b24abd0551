//! Cron schedules as Atlassian administrators write them: Quartz style, seconds first, `?` for
//! "no specific day", names or 1-7 (Sunday = 1) for days of the week, an optional year.

use std::str::FromStr;

use chrono::{DateTime, TimeZone, Timelike, Utc};
use serde::Serialize;

/// What a fire time starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunKind {
    Full,
    Incremental,
}

impl RunKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RunKind::Full => "full",
            RunKind::Incremental => "incremental",
        }
    }
}

/// One upcoming (or due) scheduled run of a connector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FireTime {
    pub connector: String,
    pub kind: RunKind,
    pub at: DateTime<Utc>,
}

/// A validated cron expression.
#[derive(Debug, Clone)]
pub struct Cron(cron::Schedule);

impl Cron {
    /// Parses an expression; the error says what is wrong in one line, for configuration paths.
    pub fn parse(text: &str) -> Result<Cron, String> {
        let fields = text.split_whitespace().count();
        if !(6..=7).contains(&fields) {
            return Err(format!(
                "invalid cron expression '{text}': expected 6 or 7 fields with seconds first, found {fields} \
                 (e.g. '0 0 2 * * ?' for 02:00 every day)"
            ));
        }
        let field: Vec<String> = text.split_whitespace().map(str::to_ascii_uppercase).collect();
        // Day of month takes no names, and day-of-week names hold no L or #: these are Quartz's
        // "last", "nearest weekday" and "nth weekday", which this scheduler does not have.
        let (dom, dow) = (&field[3], &field[5]);
        if dom.contains(['L', 'W'])
            || dow.contains('#')
            || dow == "L"
            || (dow.ends_with('L') && dow.len() <= 3 && dow.as_bytes()[0].is_ascii_digit())
        {
            return Err(format!(
                "invalid cron expression '{text}': Quartz's L, W and # (last day, nearest weekday, nth weekday) are not supported"
            ));
        }
        let cron = cron::Schedule::from_str(text).map(Cron).map_err(|e| {
            // The parser's message spans lines with a caret under the field; its last line says why.
            let why = e
                .to_string()
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty() && !l.trim().starts_with('^'))
                .map(str::trim)
                .map(str::to_string);
            match why {
                Some(why) if why != text => format!("invalid cron expression '{text}': {why}"),
                _ => format!("invalid cron expression '{text}' (e.g. '0 0 2 * * ?' for 02:00 every day)"),
            }
        })?;
        // A valid expression may still name no real time ("30 February", a year gone by): it
        // would validate and then silently never run.
        if cron.after(Utc::now(), chrono_tz::UTC).is_none() {
            return Err(format!("cron expression '{text}' never fires (no such date from now on)"));
        }
        Ok(cron)
    }

    /// The first fire time strictly after `t`, the expression read as wall-clock time in `zone`.
    /// The expression walks the zone's wall clock, so a daylight-saving change neither skips nor
    /// repeats a run: a time the clocks jump over (02:30 the night summer time begins) fires when
    /// they land (03:00), and a time they pass twice (the night it ends) fires the first time only.
    pub fn after(&self, t: DateTime<Utc>, zone: chrono_tz::Tz) -> Option<DateTime<Utc>> {
        // The wall clock as a timeline of its own (written as UTC, which has no transitions).
        let mut wall = Utc.from_utc_datetime(&t.with_timezone(&zone).naive_local());
        // A few steps at most: only a time passed twice can map to an instant before `t`.
        for _ in 0..1000 {
            let next = self.0.after(&wall).next()?;
            let at = instant(zone, next.naive_utc());
            if at > t {
                return Some(at);
            }
            wall = next;
        }
        None
    }
}

/// The instant a wall-clock time in `zone` names: the first of two in a fold, the end of the gap
/// for one the clocks skip.
fn instant(zone: chrono_tz::Tz, wall: chrono::NaiveDateTime) -> DateTime<Utc> {
    use chrono::offset::LocalResult;
    let mut probe = wall;
    // Gaps are an hour in most zones and never more than a few; past that, read it as UTC.
    for _ in 0..=(6 * 60) {
        match zone.from_local_datetime(&probe) {
            LocalResult::Single(at) | LocalResult::Ambiguous(at, _) => return at.with_timezone(&Utc),
            LocalResult::None => {
                probe = probe.with_second(0).unwrap_or(probe) + chrono::Duration::minutes(1);
            }
        }
    }
    Utc.from_utc_datetime(&wall)
}

/// A connector's two schedules: full runs and (optionally) incremental runs.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub full: Option<Cron>,
    pub incremental: Option<Cron>,
    /// The zone the expressions are read in (the configuration's `operations.time_zone`).
    pub zone: chrono_tz::Tz,
}

impl Plan {
    /// The next fire time strictly after `t`. When both expressions fire at the same instant,
    /// the full run is the one that runs: it reads everything the incremental one would.
    pub fn next_after(&self, t: DateTime<Utc>) -> Option<(DateTime<Utc>, RunKind)> {
        let full = self.full.as_ref().and_then(|c| c.after(t, self.zone)).map(|at| (at, RunKind::Full));
        let incremental =
            self.incremental.as_ref().and_then(|c| c.after(t, self.zone)).map(|at| (at, RunKind::Incremental));
        match (full, incremental) {
            (Some(f), Some(i)) => Some(if i.0 < f.0 { i } else { f }),
            (f, i) => f.or(i),
        }
    }

    /// The next `n` fire times after `t`.
    pub fn upcoming(&self, t: DateTime<Utc>, n: usize) -> Vec<(DateTime<Utc>, RunKind)> {
        let mut out = Vec::with_capacity(n);
        let mut at = t;
        while out.len() < n {
            let Some(next) = self.next_after(at) else { break };
            at = next.0;
            out.push(next);
        }
        out
    }

    pub fn is_empty(&self) -> bool {
        self.full.is_none() && self.incremental.is_none()
    }

    /// The fire times in (`last`, `now`] that passed while no engine ran, as the one run that
    /// catches up for them: at the latest of them, and a full run when a full fire time was among
    /// them. The work is bounded however long the gap: the latest is searched for in the last
    /// hour first, where a dense schedule has one.
    pub fn missed(&self, last: DateTime<Utc>, now: DateTime<Utc>) -> Option<(DateTime<Utc>, RunKind)> {
        let first = self.next_after(last).filter(|f| f.0 <= now)?;
        let full = self.full.as_ref().and_then(|c| c.after(last, self.zone)).is_some_and(|at| at <= now);
        let latest_from = |mut at: DateTime<Utc>| {
            let mut latest = None;
            while let Some((next, _)) = self.next_after(at).filter(|f| f.0 <= now) {
                latest = Some(next);
                at = next;
            }
            latest
        };
        let latest =
            latest_from(last.max(now - chrono::Duration::hours(1))).or_else(|| latest_from(last)).unwrap_or(first.0);
        Some((latest, if full { RunKind::Full } else { RunKind::Incremental }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn quartz_expressions_as_administrators_write_them() {
        let daily = Cron::parse("0 0 2 * * ?").unwrap();
        assert_eq!(daily.after(t("2026-11-23T10:00:00Z"), chrono_tz::UTC), Some(t("2026-11-24T02:00:00Z")));
        // Day 1 is Sunday, as in Quartz; 2026-11-29 is a Sunday.
        let sundays = Cron::parse("0 0 12 ? * 1").unwrap();
        assert_eq!(sundays.after(t("2026-11-23T10:00:00Z"), chrono_tz::UTC), Some(t("2026-11-29T12:00:00Z")));
        let weekdays = Cron::parse("0 30 9 ? * MON-FRI").unwrap();
        assert_eq!(weekdays.after(t("2026-11-28T10:00:00Z"), chrono_tz::UTC), Some(t("2026-11-30T09:30:00Z")));
    }

    #[test]
    fn expressions_are_read_as_wall_clock_time_in_the_configured_zone() {
        let daily = Cron::parse("0 0 2 * * ?").unwrap();
        let berlin = chrono_tz::Europe::Berlin;
        // 02:00 in Berlin is 01:00 UTC in winter (CET) and 00:00 UTC in summer (CEST).
        assert_eq!(daily.after(t("2026-11-23T10:00:00Z"), berlin), Some(t("2026-11-24T01:00:00Z")));
        assert_eq!(daily.after(t("2026-07-01T10:00:00Z"), berlin), Some(t("2026-07-02T00:00:00Z")));
        let hourly = Cron::parse("0 30 * * * ?").unwrap();
        let kolkata = chrono_tz::Asia::Kolkata; // UTC+05:30: half past there is on the hour in UTC
        assert_eq!(hourly.after(t("2026-11-23T10:10:00Z"), kolkata), Some(t("2026-11-23T11:00:00Z")));
        // 29 March 2026 has no 02:00 in Berlin (the clocks go from 02:00 to 03:00): the run is at
        // 03:00 CEST that night, not skipped.
        assert_eq!(daily.after(t("2026-03-28T12:00:00Z"), berlin), Some(t("2026-03-29T01:00:00Z")));
        assert_eq!(daily.after(t("2026-03-29T01:00:00Z"), berlin), Some(t("2026-03-30T00:00:00Z")));
        // 25 October 2026 has 02:30 twice in Berlin (00:30 and 01:30 UTC): one run, at the first.
        let half_past_two = Cron::parse("0 30 2 * * ?").unwrap();
        assert_eq!(half_past_two.after(t("2026-10-24T12:00:00Z"), berlin), Some(t("2026-10-25T00:30:00Z")));
        assert_eq!(half_past_two.after(t("2026-10-25T00:30:00Z"), berlin), Some(t("2026-10-26T01:30:00Z")));
        // Every 15 minutes across both changes: always forward, never the same instant twice.
        let plan = Plan { full: None, incremental: Some(Cron::parse("0 0/15 * * * ?").unwrap()), zone: berlin };
        for start in ["2026-03-28T23:00:00Z", "2026-10-24T23:00:00Z"] {
            let times: Vec<_> = plan.upcoming(t(start), 24).into_iter().map(|(at, _)| at).collect();
            assert_eq!(times.len(), 24);
            assert!(times.windows(2).all(|w| w[0] < w[1]), "{times:?}");
        }
    }

    #[test]
    fn errors_say_what_is_wrong_in_one_line() {
        let five = Cron::parse("0 2 * * *").unwrap_err();
        assert!(five.contains("expected 6 or 7 fields with seconds first, found 5"), "{five}");
        let last = Cron::parse("0 15 10 L * ?").unwrap_err();
        assert!(last.contains("L, W and # ") && last.contains("not supported"), "{last}");
        let nth = Cron::parse("0 15 10 ? * 6#3").unwrap_err();
        assert!(nth.contains("not supported"), "{nth}");
        let bad = Cron::parse("0 99 * * * ?").unwrap_err();
        assert!(bad.starts_with("invalid cron expression '0 99 * * * ?'") && !bad.contains('\n'), "{bad}");
        let february = Cron::parse("0 0 0 30 2 ?").unwrap_err();
        assert!(february.contains("never fires"), "{february}");
        let gone = Cron::parse("0 0 0 1 1 ? 2020").unwrap_err();
        assert!(gone.contains("never fires"), "{gone}");
    }

    #[test]
    fn missed_fire_times_make_one_catch_up_at_the_latest() {
        let plan = Plan {
            full: Some(Cron::parse("0 0 2 * * ?").unwrap()),
            incremental: Some(Cron::parse("0 0/15 * * * ?").unwrap()),
            zone: chrono_tz::UTC,
        };
        let last = t("2026-11-23T01:00:00Z");
        assert_eq!(plan.missed(last, t("2026-11-23T01:10:00Z")), None, "nothing due yet");
        assert_eq!(
            plan.missed(last, t("2026-11-23T01:40:00Z")),
            Some((t("2026-11-23T01:30:00Z"), RunKind::Incremental))
        );
        assert_eq!(
            plan.missed(last, t("2026-11-23T03:20:00Z")),
            Some((t("2026-11-23T03:15:00Z"), RunKind::Full)),
            "02:00's full run was among those missed"
        );
        // Months of downtime with a fire time every second: found without walking them all.
        let dense = Plan { full: None, incremental: Some(Cron::parse("* * * * * ?").unwrap()), zone: chrono_tz::UTC };
        let started = std::time::Instant::now();
        let late = dense.missed(t("2026-01-01T00:00:00Z"), t("2026-11-23T10:00:00.500Z"));
        assert_eq!(late, Some((t("2026-11-23T10:00:00Z"), RunKind::Incremental)));
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "bounded work");
        // A sparse schedule with nothing in the last hour: the latest is still found.
        let monthly = Plan { full: Some(Cron::parse("0 0 3 1 * ?").unwrap()), incremental: None, zone: chrono_tz::UTC };
        assert_eq!(
            monthly.missed(t("2026-08-15T00:00:00Z"), t("2026-11-23T10:00:00Z")),
            Some((t("2026-11-01T03:00:00Z"), RunKind::Full))
        );
    }

    #[test]
    fn a_full_run_wins_a_shared_instant() {
        let plan = Plan {
            full: Some(Cron::parse("0 0 * * * ?").unwrap()),
            incremental: Some(Cron::parse("0 */15 * * * ?").unwrap()),
            zone: chrono_tz::UTC,
        };
        let kinds: Vec<_> = plan
            .upcoming(t("2026-11-23T09:50:00Z"), 5)
            .into_iter()
            .map(|(at, k)| (at.format("%H:%M").to_string(), k))
            .collect();
        assert_eq!(
            kinds,
            vec![
                ("10:00".into(), RunKind::Full),
                ("10:15".into(), RunKind::Incremental),
                ("10:30".into(), RunKind::Incremental),
                ("10:45".into(), RunKind::Incremental),
                ("11:00".into(), RunKind::Full),
            ]
        );
    }
}
