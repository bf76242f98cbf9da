//! Contact-tracing rules of vaxtrace, pure like `vaxtrace-domain`: venue kinds and their default
//! stays, how long a stay counts, the infectious window of a case, which stays overlap enough to
//! make someone an F1 (and, from their exposure on, an F2), test results and quarantine orders.
//! Callers fetch the stays from storage and pass "now" in; nothing here reads a clock or a file.

pub mod case;
pub mod contacts;
pub mod quarantine;
pub mod stay;
pub mod test_result;
pub mod venue;

pub use case::{CaseFacts, InfectiousWindow, WindowRule};
pub use contacts::{Contact, ContactRule, Exposure, exposures, strongest_by_person};
pub use quarantine::{QuarantineInput, QuarantineKind, QuarantineOrder};
pub use stay::{MAX_STAY_SECS, Stay, StayEnd, stay_end};
pub use test_result::{TestInput, TestKind, TestOutcome, TestResult};
pub use venue::{Venue, VenueInput, VenueKind};
