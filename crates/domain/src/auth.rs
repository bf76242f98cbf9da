//! Roles, permissions and jurisdictions: who may do what, and over which part of the country.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::{ParseError, UnitLevel, admin_units};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    MinistryAnalyst,
    ProvinceHealth,
    DistrictHealth,
    CommuneHealth,
    CommunePolice,
    CommuneSigner,
    VaccinationSite,
    CheckpointOfficer,
    VenueOwner,
    Citizen,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Read a citizen's registry record (scoped by jurisdiction).
    ReadCitizen,
    /// Ask whether an ID matches a name and birth date (yes/no only).
    VerifyIdentity,
    ManageUsers,
    ReadAudit,
    /// Report shots (vaccination sites and health staff).
    RecordVaccination,
    /// Work the verification and cleaning queue (scoped by jurisdiction).
    ReviewVaccinations,
    /// Sign verified records with the commune People's Committee key.
    SignVaccinations,
    /// See a citizen's vaccination colour and validity only, not the medical details.
    ReadStatusColour,
    /// Revoke a citizen's EU DCC certificate (scoped by jurisdiction).
    RevokeCertificates,
    /// Scan travel passes and chip ID cards at a checkpoint of one's area.
    ScanCheckpoint,
    /// Read and acknowledge the declarations routed to one's commune.
    ReadDeclarationInbox,
    /// See declaration counts per commune of one's area.
    ReadMovementCounts,
    /// Register checkpoints and mark outbreak areas in one's area.
    ManageMovementControl,
    /// Register venues and check people in at one's own venues.
    ManageVenues,
    /// Report laboratory test results.
    RecordTests,
    /// Confirm cases (F0), trace their movements and contacts, in one's area.
    TraceCases,
    /// See the contacts and quarantine orders of one's area.
    ReadContacts,
    /// Order and release quarantine in one's area.
    ManageQuarantine,
    /// See coverage and verification-work numbers of one's area (aggregates only).
    ReadAnalytics,
    /// The citizen app: one's own and one's household's card, history and privacy page.
    UseCitizenApp,
    /// Re-bind a citizen app account to a new phone (a lost phone), in one's area.
    ManageCitizenAccounts,
}

impl Role {
    pub const ALL: [Role; 11] = [
        Self::Admin,
        Self::MinistryAnalyst,
        Self::ProvinceHealth,
        Self::DistrictHealth,
        Self::CommuneHealth,
        Self::CommunePolice,
        Self::CommuneSigner,
        Self::VaccinationSite,
        Self::CheckpointOfficer,
        Self::VenueOwner,
        Self::Citizen,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::MinistryAnalyst => "ministry_analyst",
            Self::ProvinceHealth => "province_health",
            Self::DistrictHealth => "district_health",
            Self::CommuneHealth => "commune_health",
            Self::CommunePolice => "commune_police",
            Self::CommuneSigner => "commune_signer",
            Self::VaccinationSite => "vaccination_site",
            Self::CheckpointOfficer => "checkpoint_officer",
            Self::VenueOwner => "venue_owner",
            Self::Citizen => "citizen",
        }
    }

    pub fn label_vi(self) -> &'static str {
        match self {
            Self::Admin => "Quản trị hệ thống",
            Self::MinistryAnalyst => "Chuyên viên phân tích Bộ Y tế",
            Self::ProvinceHealth => "Cán bộ y tế tỉnh",
            Self::DistrictHealth => "Cán bộ y tế huyện",
            Self::CommuneHealth => "Trạm y tế xã",
            Self::CommunePolice => "Công an xã",
            Self::CommuneSigner => "Người ký UBND xã",
            Self::VaccinationSite => "Điểm tiêm chủng",
            Self::CheckpointOfficer => "Cán bộ chốt kiểm soát",
            Self::VenueOwner => "Chủ địa điểm",
            Self::Citizen => "Công dân",
        }
    }

    /// The permission table: the single place that says which role may do what.
    pub fn allows(self, permission: Permission) -> bool {
        use Permission::{ManageCitizenAccounts, UseCitizenApp};
        use Permission::{
            ManageMovementControl, ManageQuarantine, ManageVenues, ReadAnalytics, ReadContacts,
            ReadDeclarationInbox, ReadMovementCounts, RecordTests, ScanCheckpoint, TraceCases,
        };
        use Permission::{
            ManageUsers, ReadAudit, ReadCitizen, ReadStatusColour, RecordVaccination,
            ReviewVaccinations, RevokeCertificates, SignVaccinations, VerifyIdentity,
        };
        match permission {
            RecordVaccination => matches!(
                self,
                Self::Admin
                    | Self::ProvinceHealth
                    | Self::DistrictHealth
                    | Self::CommuneHealth
                    | Self::VaccinationSite
            ),
            ReviewVaccinations => matches!(
                self,
                Self::Admin
                    | Self::ProvinceHealth
                    | Self::DistrictHealth
                    | Self::CommuneHealth
                    | Self::CommunePolice
            ),
            SignVaccinations => self == Self::CommuneSigner,
            ReadStatusColour => !matches!(self, Self::MinistryAnalyst | Self::Citizen),
            ReadCitizen => matches!(
                self,
                Self::Admin
                    | Self::ProvinceHealth
                    | Self::DistrictHealth
                    | Self::CommuneHealth
                    | Self::CommunePolice
                    | Self::CommuneSigner
            ),
            VerifyIdentity => !matches!(self, Self::MinistryAnalyst | Self::Citizen),
            RevokeCertificates => matches!(
                self,
                Self::Admin | Self::ProvinceHealth | Self::DistrictHealth | Self::CommuneHealth
            ),
            ScanCheckpoint => matches!(
                self,
                Self::Admin | Self::CheckpointOfficer | Self::CommunePolice
            ),
            ReadDeclarationInbox => self == Self::CommunePolice,
            ReadMovementCounts => matches!(
                self,
                Self::Admin
                    | Self::MinistryAnalyst
                    | Self::ProvinceHealth
                    | Self::DistrictHealth
                    | Self::CommunePolice
            ),
            ManageMovementControl => matches!(self, Self::Admin | Self::ProvinceHealth),
            ManageVenues => matches!(self, Self::Admin | Self::VenueOwner),
            RecordTests => matches!(
                self,
                Self::Admin
                    | Self::ProvinceHealth
                    | Self::DistrictHealth
                    | Self::CommuneHealth
                    | Self::VaccinationSite
            ),
            TraceCases | ManageQuarantine => matches!(
                self,
                Self::Admin | Self::ProvinceHealth | Self::DistrictHealth | Self::CommuneHealth
            ),
            ReadContacts => matches!(
                self,
                Self::Admin
                    | Self::ProvinceHealth
                    | Self::DistrictHealth
                    | Self::CommuneHealth
                    | Self::CommunePolice
            ),
            ReadAnalytics => matches!(
                self,
                Self::Admin
                    | Self::MinistryAnalyst
                    | Self::ProvinceHealth
                    | Self::DistrictHealth
                    | Self::CommuneHealth
            ),
            UseCitizenApp => self == Self::Citizen,
            ManageCitizenAccounts => matches!(
                self,
                Self::Admin | Self::CommunePolice | Self::CommuneHealth
            ),
            ManageUsers | ReadAudit => self == Self::Admin,
        }
    }

    /// The jurisdiction level the role must be bound to; `None` means any level.
    pub fn required_level(self) -> Option<JurisdictionLevel> {
        match self {
            Self::Admin | Self::MinistryAnalyst => Some(JurisdictionLevel::National),
            Self::ProvinceHealth => Some(JurisdictionLevel::Unit(UnitLevel::Province)),
            Self::DistrictHealth => Some(JurisdictionLevel::Unit(UnitLevel::District)),
            Self::CommuneHealth | Self::CommunePolice | Self::CommuneSigner => {
                Some(JurisdictionLevel::Unit(UnitLevel::Commune))
            }
            Self::VaccinationSite | Self::CheckpointOfficer | Self::VenueOwner | Self::Citizen => {
                None
            }
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Role {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|r| r.code() == s.trim())
            .ok_or_else(|| {
                let all: Vec<_> = Self::ALL.iter().map(|r| r.code()).collect();
                ParseError::new(
                    "role",
                    "unknown_role",
                    format!("Vai trò không tồn tại; chọn một trong: {}", all.join(", ")),
                    format!("Unknown role; one of: {}", all.join(", ")),
                )
            })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JurisdictionLevel {
    National,
    Unit(UnitLevel),
}

/// The part of the country a user acts for: the nation (`VN`) or one administrative unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Jurisdiction {
    National,
    Unit(&'static str),
}

impl Jurisdiction {
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let raw = raw.trim();
        if raw.eq_ignore_ascii_case("VN") {
            return Ok(Self::National);
        }
        admin_units()
            .get(raw)
            .map(|u| Self::Unit(u.code))
            .ok_or_else(|| {
                ParseError::new(
                    "jurisdiction",
                    "unknown_unit",
                    format!("Địa bàn không tồn tại: '{raw}' (dùng VN hoặc mã tỉnh/huyện/xã)"),
                    format!(
                        "Unknown jurisdiction '{raw}' (use VN or a province/district/commune code)"
                    ),
                )
            })
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::National => "VN",
            Self::Unit(code) => code,
        }
    }

    pub fn level(self) -> JurisdictionLevel {
        match self {
            Self::National => JurisdictionLevel::National,
            Self::Unit(code) => {
                JurisdictionLevel::Unit(UnitLevel::of_code(code).unwrap_or(UnitLevel::Commune))
            }
        }
    }

    /// Whether the administrative unit `code` lies within this jurisdiction.
    pub fn contains(self, code: &str) -> bool {
        match self {
            Self::National => true,
            Self::Unit(own) => admin_units().lineage(code).iter().any(|u| u.code == own),
        }
    }

    /// Whether a role may be bound to this jurisdiction.
    pub fn check_role(self, role: Role) -> Result<(), ParseError> {
        match role.required_level() {
            Some(level) if level != self.level() => Err(ParseError::new(
                "jurisdiction",
                "wrong_level",
                format!("Vai trò {} cần địa bàn cấp {:?}", role.code(), level),
                format!(
                    "Role {} needs a jurisdiction at level {:?}",
                    role.code(),
                    level
                ),
            )),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jurisdiction_contains_units_below_it() {
        let province = Jurisdiction::parse("01").unwrap();
        let district = Jurisdiction::parse("001").unwrap();
        let commune = Jurisdiction::parse("00001").unwrap();
        assert!(
            province.contains("00001") && district.contains("00001") && commune.contains("00001")
        );
        assert!(!commune.contains("00004"));
        assert!(!province.contains("30730"));
        assert!(Jurisdiction::National.contains("30730"));
        assert_eq!(Jurisdiction::parse("vn").unwrap(), Jurisdiction::National);
        assert_eq!(
            Jurisdiction::parse("12345678").unwrap_err().code,
            "unknown_unit"
        );
    }

    #[test]
    fn roles_round_trip_and_bind_to_the_right_level() {
        for role in Role::ALL {
            assert_eq!(role.code().parse::<Role>().unwrap(), role);
        }
        assert!("police".parse::<Role>().is_err());
        let commune = Jurisdiction::parse("00001").unwrap();
        assert!(commune.check_role(Role::CommunePolice).is_ok());
        assert!(commune.check_role(Role::ProvinceHealth).is_err());
        assert!(Jurisdiction::National.check_role(Role::Admin).is_ok());
        assert!(commune.check_role(Role::VaccinationSite).is_ok());
    }

    #[test]
    fn analysts_and_citizens_never_read_personal_records() {
        for role in [
            Role::MinistryAnalyst,
            Role::Citizen,
            Role::VenueOwner,
            Role::CheckpointOfficer,
        ] {
            assert!(!role.allows(Permission::ReadCitizen), "{role}");
        }
        assert!(Role::CommunePolice.allows(Permission::ReadCitizen));
        assert!(!Role::CommunePolice.allows(Permission::ManageUsers));
    }
}
