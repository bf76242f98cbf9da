//! Analytics rules of vaxtrace, without I/O.
//!
//! Coverage is kept live as additive counters ([`counters`]): every change to what a citizen
//! contributes ([`member`]) becomes deltas applied in the same transaction as the change. A
//! counter is keyed by unit (commune, district and province alike), time grain and bucket, and a
//! series name; "as of day D" is the sum of the year buckets before D's year, the month buckets
//! before D's month and the day buckets up to D, so any day costs at most ~45 rows per series.
//! [`report`] turns summed series into the coverage rows the API shows.

pub mod age;
pub mod area;
pub mod counters;
pub mod flows;
pub mod member;
pub mod report;
pub mod supervision;

pub use age::{AGE_RULE, AgeRule, Band};
pub use counters::{Deltas, Grain, Key, Series};
pub use member::{DoseCell, Member, Resident};
