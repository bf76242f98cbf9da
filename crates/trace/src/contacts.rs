//! Who was exposed: stays at the same venue that overlap an infectious person's stay long enough.
//! The same rule finds F1s from an F0's stays and F2s from each F1's stays after exposure.

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use vaxtrace_domain::{ParseError, PersonalId};

use crate::stay::{MAX_STAY_SECS, Stay};

/// When two stays make a contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContactRule {
    /// The shortest overlap that counts.
    pub min_overlap_secs: i64,
    /// Widens the infectious person's stays on both sides: times on paper and late check-ins are
    /// imprecise, and air stays contaminated a while.
    pub margin_secs: i64,
}

impl Default for ContactRule {
    /// 15 minutes together, no margin.
    fn default() -> Self {
        Self {
            min_overlap_secs: 15 * 60,
            margin_secs: 0,
        }
    }
}

impl ContactRule {
    pub fn new(min_overlap_minutes: u32, margin_minutes: u32) -> Result<Self, ParseError> {
        if !(1..=240).contains(&min_overlap_minutes) {
            return Err(ParseError::new(
                "min_overlap_minutes",
                "invalid_rule",
                "Thời gian tiếp xúc tối thiểu phải từ 1 đến 240 phút",
                "The minimum overlap must be between 1 and 240 minutes",
            ));
        }
        if margin_minutes > 240 {
            return Err(ParseError::new(
                "margin_minutes",
                "invalid_rule",
                "Khoảng nới thêm tối đa 240 phút",
                "The margin is at most 240 minutes",
            ));
        }
        Ok(Self {
            min_overlap_secs: i64::from(min_overlap_minutes) * 60,
            margin_secs: i64::from(margin_minutes) * 60,
        })
    }
}

/// One overlap of a contact's stay with an infectious person's stay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Exposure {
    pub contact: PersonalId,
    /// The infectious person whose stay it overlapped.
    pub source: PersonalId,
    pub venue_id: i64,
    pub contact_start: i64,
    pub contact_end: i64,
    pub source_start: i64,
    pub source_end: i64,
    pub overlap_start: i64,
    pub overlap_secs: i64,
}

/// Per venue, the time ranges in which to look for other people's stays around `stays`: a stay
/// that began up to [`MAX_STAY_SECS`] before may still be going on. Overlapping ranges are merged
/// so each part of a venue's day is read once.
pub fn search_ranges(stays: &[Stay], rule: ContactRule) -> Vec<(i64, i64, i64)> {
    let mut ranges: Vec<(i64, i64, i64)> = stays
        .iter()
        .map(|s| {
            (
                s.venue_id,
                s.start - rule.margin_secs - MAX_STAY_SECS,
                s.end + rule.margin_secs,
            )
        })
        .collect();
    ranges.sort_unstable();
    let mut merged: Vec<(i64, i64, i64)> = Vec::with_capacity(ranges.len());
    for (venue, from, to) in ranges {
        match merged.last_mut() {
            Some(last) if last.0 == venue && from <= last.2 => last.2 = last.2.max(to),
            _ => merged.push((venue, from, to)),
        }
    }
    merged
}

/// Every overlap of `candidates` with `sources` (the infectious stays) at the same venue that
/// lasts at least the rule's minimum. People in `exclude` (the case itself, contacts already
/// found at a closer level) are skipped.
pub fn exposures<S: std::hash::BuildHasher>(
    sources: &[Stay],
    candidates: &[Stay],
    rule: ContactRule,
    exclude: &HashSet<PersonalId, S>,
) -> Vec<Exposure> {
    let by_venue = merged_by_venue(sources, rule.margin_secs);
    let mut out = Vec::new();
    for c in candidates {
        if exclude.contains(&c.personal_id) {
            continue;
        }
        let Some(at_venue) = by_venue.get(&c.venue_id) else {
            continue;
        };
        for s in at_venue {
            if s.personal_id == c.personal_id {
                continue;
            }
            let start = c.start.max(s.start - rule.margin_secs);
            let end = c.end.min(s.end + rule.margin_secs);
            if end - start >= rule.min_overlap_secs {
                out.push(Exposure {
                    contact: c.personal_id,
                    source: s.personal_id,
                    venue_id: c.venue_id,
                    contact_start: c.start,
                    contact_end: c.end,
                    source_start: s.start,
                    source_end: s.end,
                    overlap_start: start,
                    overlap_secs: end - start,
                });
            }
        }
    }
    out
}

/// The infectious stays by venue, each person's overlapping (or margin-adjacent) stays at a venue
/// merged into one: a person scanned twice (poster and card) is one presence, not two.
fn merged_by_venue(sources: &[Stay], margin: i64) -> HashMap<i64, Vec<Stay>> {
    let mut sorted = sources.to_vec();
    sorted.sort_unstable_by_key(|s| (s.venue_id, s.personal_id, s.start));
    let mut by_venue: HashMap<i64, Vec<Stay>> = HashMap::new();
    for s in sorted {
        let at_venue = by_venue.entry(s.venue_id).or_default();
        match at_venue.last_mut() {
            Some(previous)
                if previous.personal_id == s.personal_id
                    && s.start <= previous.end + 2 * margin =>
            {
                previous.end = previous.end.max(s.end);
            }
            _ => at_venue.push(s),
        }
    }
    by_venue
}

/// The length of the union of `[start, start + secs)` intervals.
fn union_secs(mut intervals: Vec<(i64, i64)>) -> i64 {
    intervals.sort_unstable();
    let (mut total, mut reach) = (0, i64::MIN);
    for (start, end) in intervals {
        if end > reach {
            total += end - start.max(reach);
            reach = end;
        }
    }
    total
}

/// A contact with all their evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Contact {
    pub personal_id: PersonalId,
    /// When the first exposure began: an F2 search starts here.
    pub exposed_at: i64,
    pub total_overlap_secs: i64,
    /// Oldest first.
    pub evidence: Vec<Exposure>,
}

/// Groups exposures by contact, in order of first exposure (ties by ID, so output is stable).
pub fn strongest_by_person(exposures: Vec<Exposure>) -> Vec<Contact> {
    let mut by_person: HashMap<PersonalId, Vec<Exposure>> = HashMap::new();
    for e in exposures {
        by_person.entry(e.contact).or_default().push(e);
    }
    let mut contacts: Vec<Contact> = by_person
        .into_iter()
        .map(|(personal_id, mut evidence)| {
            evidence.sort_by_key(|e| (e.overlap_start, e.venue_id));
            Contact {
                personal_id,
                exposed_at: evidence[0].overlap_start,
                // Time together, counted once even when it overlapped several sources.
                total_overlap_secs: union_secs(
                    evidence
                        .iter()
                        .map(|e| (e.overlap_start, e.overlap_start + e.overlap_secs))
                        .collect(),
                ),
                evidence,
            }
        })
        .collect();
    contacts.sort_by_key(|c| (c.exposed_at, c.personal_id));
    contacts
}

/// Cuts stays to `[from, to]`, dropping those outside: only time while infectious (or, for an F1,
/// after exposure) counts.
pub fn clip(stays: &[Stay], from: i64, to: i64) -> Vec<Stay> {
    stays
        .iter()
        .filter(|s| s.end > from && s.start < to)
        .map(|s| Stay {
            start: s.start.max(from),
            end: s.end.min(to),
            ..*s
        })
        .collect()
}

/// Where each contact's onward search runs: from their first exposure until `until`.
pub fn onward_windows(contacts: &[Contact], until: i64) -> Vec<(PersonalId, i64, i64)> {
    contacts
        .iter()
        .filter(|c| c.exposed_at < until)
        .map(|c| (c.personal_id, c.exposed_at, until))
        .collect()
}

/// Cuts each person's stays to their own window (see [`onward_windows`]).
pub fn clip_each(stays: &[Stay], windows: &[(PersonalId, i64, i64)]) -> Vec<Stay> {
    let by_person: HashMap<PersonalId, (i64, i64)> = windows
        .iter()
        .map(|(p, from, to)| (*p, (*from, *to)))
        .collect();
    stays
        .iter()
        .filter_map(|s| {
            let (from, to) = by_person.get(&s.personal_id)?;
            clip(std::slice::from_ref(s), *from, *to).pop()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_637_650_000;
    const MIN: i64 = 60;

    fn pid(n: u64) -> PersonalId {
        PersonalId::parse(&format!("0010900{n:05}")).unwrap()
    }

    fn stay(p: u64, venue: i64, start_min: i64, end_min: i64) -> Stay {
        Stay {
            personal_id: pid(p),
            venue_id: venue,
            start: T + start_min * MIN,
            end: T + end_min * MIN,
        }
    }

    #[test]
    fn overlaps_of_at_least_the_minimum_make_contacts() {
        let f0 = [stay(0, 1, 0, 60)];
        let candidates = [
            stay(1, 1, 30, 90),  // 30 minutes together
            stay(2, 1, 50, 120), // 10 minutes: not enough
            stay(3, 2, 0, 60),   // another venue
            stay(0, 1, 0, 60),   // the case itself
            stay(4, 1, 60, 90),  // arrived as the case left
        ];
        let found = exposures(&f0, &candidates, ContactRule::default(), &HashSet::new());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].contact, pid(1));
        assert_eq!(found[0].overlap_secs, 30 * MIN);
        assert_eq!(found[0].overlap_start, T + 30 * MIN);
    }

    #[test]
    fn a_margin_widens_the_infectious_stay() {
        let f0 = [stay(0, 1, 0, 60)];
        let after = [stay(4, 1, 60, 90)];
        let rule = ContactRule::new(15, 20).unwrap();
        let found = exposures(&f0, &after, rule, &HashSet::new());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].overlap_secs, 20 * MIN);
        assert!(
            exposures(
                &f0,
                &after,
                ContactRule::new(15, 10).unwrap(),
                &HashSet::new()
            )
            .is_empty()
        );
    }

    #[test]
    fn a_case_scanned_twice_is_one_presence_and_time_counts_once() {
        // The case checked in by poster and scanned by the venue too: two overlapping stays.
        let f0 = [stay(0, 1, 0, 60), stay(0, 1, 10, 60)];
        let found = exposures(
            &f0,
            &[stay(1, 1, 0, 60)],
            ContactRule::default(),
            &HashSet::new(),
        );
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].overlap_secs, 60 * MIN);
        // Two F1s at one venue: two pieces of evidence, but the hour together counts once.
        let f1s = [stay(1, 1, 0, 60), stay(2, 1, 0, 60)];
        let contacts = strongest_by_person(exposures(
            &f1s,
            &[stay(3, 1, 0, 60)],
            ContactRule::default(),
            &HashSet::new(),
        ));
        assert_eq!(contacts[0].evidence.len(), 2);
        assert_eq!(contacts[0].total_overlap_secs, 60 * MIN);
    }

    #[test]
    fn excluded_people_are_not_contacts_again() {
        let f0 = [stay(0, 1, 0, 60)];
        let exclude: HashSet<_> = [pid(1)].into();
        assert!(exposures(&f0, &[stay(1, 1, 0, 60)], ContactRule::default(), &exclude).is_empty());
    }

    #[test]
    fn contacts_group_their_evidence_by_first_exposure() {
        let f0 = [stay(0, 1, 0, 60), stay(0, 2, 120, 180)];
        let candidates = [
            stay(1, 2, 120, 180),
            stay(1, 1, 0, 30),
            stay(2, 2, 100, 150),
        ];
        let contacts = strongest_by_person(exposures(
            &f0,
            &candidates,
            ContactRule::default(),
            &HashSet::new(),
        ));
        assert_eq!(contacts.len(), 2);
        assert_eq!(contacts[0].personal_id, pid(1));
        assert_eq!(contacts[0].exposed_at, T);
        assert_eq!(contacts[0].evidence.len(), 2);
        assert_eq!(contacts[0].total_overlap_secs, 90 * MIN);
        assert_eq!(contacts[1].exposed_at, T + 120 * MIN);
    }

    #[test]
    fn search_ranges_reach_back_a_maximal_stay_and_merge() {
        let stays = [stay(0, 1, 0, 60), stay(0, 1, 30, 90), stay(0, 2, 0, 10)];
        let ranges = search_ranges(&stays, ContactRule::default());
        assert_eq!(
            ranges,
            vec![
                (1, T - MAX_STAY_SECS, T + 90 * MIN),
                (2, T - MAX_STAY_SECS, T + 10 * MIN)
            ]
        );
    }

    #[test]
    fn onward_searches_start_at_each_exposure() {
        let f0 = [stay(0, 1, 0, 60)];
        let f1 = strongest_by_person(exposures(
            &f0,
            &[stay(1, 1, 30, 90)],
            ContactRule::default(),
            &HashSet::new(),
        ));
        let windows = onward_windows(&f1, T + 600 * MIN);
        assert_eq!(windows, vec![(pid(1), T + 30 * MIN, T + 600 * MIN)]);
        // The F1's stays before exposure do not count, nor other people's.
        let stays = [
            stay(1, 2, 0, 20),
            stay(1, 3, 100, 160),
            stay(2, 3, 100, 160),
        ];
        assert_eq!(clip_each(&stays, &windows), vec![stay(1, 3, 100, 160)]);
    }

    #[test]
    fn clipping_keeps_only_the_window() {
        let stays = [stay(0, 1, 0, 60), stay(0, 1, 100, 120)];
        let clipped = clip(&stays, T + 30 * MIN, T + 110 * MIN);
        assert_eq!(clipped, vec![stay(0, 1, 30, 60), stay(0, 1, 100, 110)]);
    }
}
