//! The flat row form of a citizen, shared by both backends, and its strict way back into the domain.

use vaxtrace_domain::{
    BirthDate, Citizen, FullName, LegacyId, LifeStatus, PersonalId, Phone, Residence, Sex,
    admin_units,
};

use crate::StoreError;

/// Columns in the order every INSERT and SELECT in this crate uses.
pub(crate) const COLUMNS: &str = "personal_id, full_name, name_key, birth_date, sex, permanent_unit, \
     permanent_address, temporary_unit, temporary_address, phone, legacy_id, household_id, status, updated_at";

/// `SET` list of an upsert: every column from the incoming row.
pub(crate) const UPDATE_ALL: &str = "full_name = excluded.full_name, name_key = excluded.name_key, \
     birth_date = excluded.birth_date, sex = excluded.sex, permanent_unit = excluded.permanent_unit, \
     permanent_address = excluded.permanent_address, temporary_unit = excluded.temporary_unit, \
     temporary_address = excluded.temporary_address, phone = excluded.phone, legacy_id = excluded.legacy_id, \
     household_id = excluded.household_id, status = excluded.status, updated_at = excluded.updated_at";

#[derive(Debug, Clone)]
pub(crate) struct CitizenRow {
    pub personal_id: i64,
    pub full_name: String,
    pub birth_date: String,
    pub sex: String,
    pub permanent_unit: String,
    pub permanent_address: String,
    pub temporary_unit: Option<String>,
    pub temporary_address: Option<String>,
    pub phone: Option<String>,
    pub legacy_id: Option<String>,
    pub household_id: Option<String>,
    pub status: String,
}

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

impl CitizenRow {
    /// Re-parses every column: a row the domain would reject is reported, never passed on.
    pub fn into_citizen(self) -> Result<Citizen, StoreError> {
        let units = admin_units();
        let residence = |unit: &str, address: String| -> Result<Residence, StoreError> {
            Ok(Residence {
                unit_code: units.parse_residence_unit("unit", unit).map_err(corrupt)?,
                address,
            })
        };
        let temporary = match (self.temporary_unit, self.temporary_address) {
            (Some(unit), address) => Some(residence(&unit, address.unwrap_or_default())?),
            (None, _) => None,
        };
        Ok(Citizen {
            personal_id: PersonalId::from_number(self.personal_id as u64).map_err(corrupt)?,
            full_name: FullName::parse(&self.full_name).map_err(corrupt)?,
            birth_date: BirthDate::parse(&self.birth_date).map_err(corrupt)?,
            sex: Sex::parse_field("sex", &self.sex).map_err(corrupt)?,
            permanent: residence(&self.permanent_unit, self.permanent_address)?,
            temporary,
            phone: self
                .phone
                .as_deref()
                .map(Phone::parse)
                .transpose()
                .map_err(corrupt)?,
            legacy_id: self
                .legacy_id
                .as_deref()
                .map(LegacyId::parse)
                .transpose()
                .map_err(corrupt)?,
            household_id: self.household_id,
            status: LifeStatus::parse(&self.status).map_err(corrupt)?,
        })
    }
}
