//! Venues that put up a check-in QR poster: businesses, offices, public places and households.

use serde::{Deserialize, Serialize};
use vaxtrace_domain::{ParseError, admin_units, text};

/// What kind of place a venue is; each kind has the stay assumed when nobody checks out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VenueKind {
    Shop,
    Market,
    Restaurant,
    Office,
    Factory,
    School,
    HealthFacility,
    PublicPlace,
    Transport,
    Household,
}

impl VenueKind {
    pub const ALL: [Self; 10] = [
        Self::Shop,
        Self::Market,
        Self::Restaurant,
        Self::Office,
        Self::Factory,
        Self::School,
        Self::HealthFacility,
        Self::PublicPlace,
        Self::Transport,
        Self::Household,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::Shop => "shop",
            Self::Market => "market",
            Self::Restaurant => "restaurant",
            Self::Office => "office",
            Self::Factory => "factory",
            Self::School => "school",
            Self::HealthFacility => "health_facility",
            Self::PublicPlace => "public_place",
            Self::Transport => "transport",
            Self::Household => "household",
        }
    }

    pub fn label_vi(self) -> &'static str {
        match self {
            Self::Shop => "Cửa hàng",
            Self::Market => "Chợ",
            Self::Restaurant => "Nhà hàng, quán ăn",
            Self::Office => "Cơ quan, văn phòng",
            Self::Factory => "Nhà máy, xí nghiệp",
            Self::School => "Trường học",
            Self::HealthFacility => "Cơ sở y tế",
            Self::PublicPlace => "Nơi công cộng",
            Self::Transport => "Phương tiện, bến xe",
            Self::Household => "Hộ gia đình",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Self::Shop => "Shop",
            Self::Market => "Market",
            Self::Restaurant => "Restaurant",
            Self::Office => "Office",
            Self::Factory => "Factory",
            Self::School => "School",
            Self::HealthFacility => "Health facility",
            Self::PublicPlace => "Public place",
            Self::Transport => "Transport",
            Self::Household => "Household",
        }
    }

    /// Minutes a stay is assumed to last when the person does not check out: a working day for
    /// offices, factories and schools, a night for a household visit, a typical visit elsewhere.
    pub fn default_stay_minutes(self) -> u32 {
        match self {
            Self::Shop => 30,
            Self::Market | Self::PublicPlace | Self::Transport => 60,
            Self::Restaurant => 90,
            Self::HealthFacility => 120,
            Self::Office | Self::Factory | Self::School => 8 * 60,
            Self::Household => 12 * 60,
        }
    }

    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        Self::ALL
            .into_iter()
            .find(|k| k.code() == raw.trim())
            .ok_or_else(|| {
                let all: Vec<_> = Self::ALL.iter().map(|k| k.code()).collect();
                ParseError::new(
                    "kind",
                    "unknown_venue_kind",
                    format!(
                        "Loại địa điểm không hợp lệ; chọn một trong: {}",
                        all.join(", ")
                    ),
                    format!("Unknown venue kind; one of: {}", all.join(", ")),
                )
            })
    }
}

/// A venue registration as submitted.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct VenueInput {
    pub name: String,
    pub kind: String,
    pub commune_code: String,
    pub address: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// Overrides the kind's default stay, in minutes.
    pub stay_minutes: Option<u32>,
}

/// A checked venue registration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Venue {
    pub name: String,
    pub kind: VenueKind,
    pub commune_code: &'static str,
    pub address: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub stay_minutes: u32,
}

impl VenueInput {
    pub fn parse(&self) -> Result<Venue, ParseError> {
        let name = text::free_text("name", &self.name, 200)?;
        let kind = VenueKind::parse(&self.kind)?;
        let commune_code =
            admin_units().parse_residence_unit("commune_code", &self.commune_code)?;
        let address = text::free_text("address", &self.address, 300)?;
        let (latitude, longitude) = parse_position(self.latitude, self.longitude)?;
        let stay_minutes = match self.stay_minutes {
            None => kind.default_stay_minutes(),
            Some(m @ 5..=1440) => m,
            Some(_) => {
                return Err(ParseError::new(
                    "stay_minutes",
                    "invalid_stay",
                    "Thời gian lưu lại mặc định phải từ 5 phút đến 24 giờ",
                    "The default stay must be between 5 minutes and 24 hours",
                ));
            }
        };
        Ok(Venue {
            name,
            kind,
            commune_code,
            address,
            latitude,
            longitude,
            stay_minutes,
        })
    }
}

/// Both coordinates or neither, inside Vietnam's bounding box (with its islands).
fn parse_position(
    latitude: Option<f64>,
    longitude: Option<f64>,
) -> Result<(Option<f64>, Option<f64>), ParseError> {
    match (latitude, longitude) {
        (None, None) => Ok((None, None)),
        (Some(lat), Some(lon)) if (8.0..=23.5).contains(&lat) && (102.0..=117.5).contains(&lon) => {
            Ok((Some(lat), Some(lon)))
        }
        _ => Err(ParseError::new(
            "latitude",
            "invalid_position",
            "Tọa độ phải có cả vĩ độ và kinh độ, nằm trong lãnh thổ Việt Nam",
            "Give both latitude and longitude, within Vietnam",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> VenueInput {
        VenueInput {
            name: "  Quán   Phở Thìn ".into(),
            kind: "restaurant".into(),
            commune_code: "00001".into(),
            address: "13 Lò Đúc".into(),
            ..VenueInput::default()
        }
    }

    #[test]
    fn a_venue_takes_its_kinds_default_stay() {
        let v = input().parse().unwrap();
        assert_eq!(v.name, "Quán Phở Thìn");
        assert_eq!(v.stay_minutes, 90);
        let office = VenueInput {
            kind: "office".into(),
            stay_minutes: Some(240),
            ..input()
        };
        assert_eq!(office.parse().unwrap().stay_minutes, 240);
    }

    #[test]
    fn bad_registrations_name_their_field() {
        let cases = [
            (
                VenueInput {
                    kind: "bar".into(),
                    ..input()
                },
                "kind",
            ),
            (
                VenueInput {
                    commune_code: "99999".into(),
                    ..input()
                },
                "commune_code",
            ),
            (
                VenueInput {
                    name: " ".into(),
                    ..input()
                },
                "name",
            ),
            (
                VenueInput {
                    latitude: Some(21.0),
                    ..input()
                },
                "latitude",
            ),
            (
                VenueInput {
                    latitude: Some(48.8),
                    longitude: Some(2.3),
                    ..input()
                },
                "latitude",
            ),
            (
                VenueInput {
                    stay_minutes: Some(2),
                    ..input()
                },
                "stay_minutes",
            ),
        ];
        for (bad, field) in cases {
            assert_eq!(bad.parse().unwrap_err().field, field, "{bad:?}");
        }
    }

    #[test]
    fn kinds_round_trip() {
        for k in VenueKind::ALL {
            assert_eq!(VenueKind::parse(k.code()).unwrap(), k);
        }
    }
}
