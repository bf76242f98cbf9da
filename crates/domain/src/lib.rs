//! Pure domain rules of vaxtrace.
//!
//! Owns the types every other crate builds on: personal IDs, administrative units, Vietnamese names,
//! birth dates, chip ID card QR text, citizens, roles and jurisdictions. Every type is built through a
//! parser that checks it, so the rest of the system never re-validates. This crate knows nothing of
//! SQL, HTTP, files or clocks: callers pass "today" in when a rule needs it.

pub mod admin;
pub mod auth;
pub mod chip_qr;
pub mod citizen;
pub mod citizen_app;
pub mod date;
pub mod declaration;
pub mod error;
pub mod linkage;
pub mod name;
pub mod personal_id;
pub mod shot;
pub mod status;
pub mod text;
pub mod vaccine;

pub use admin::{AdminUnits, UnitLevel, admin_units};
pub use auth::{Jurisdiction, Permission, Role};
pub use chip_qr::ChipQr;
pub use citizen::{Citizen, CitizenInput, LegacyId, LifeStatus, Phone, Residence, Sex};
pub use citizen_app::{InsuranceNumber, Relation};
pub use date::BirthDate;
pub use declaration::{Declaration, DeclarationInput, Symptom, Transport};
pub use error::ParseError;
pub use name::FullName;
pub use personal_id::PersonalId;
pub use shot::{Shot, ShotInput};
pub use status::{Colour, Status};
pub use vaccine::Vaccine;
