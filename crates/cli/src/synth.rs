//! Deterministic synthetic population of one province, in the registry's import format: Vietnamese
//! names by real family-name frequencies, the 2019 age/sex pyramid, households sharing an address,
//! residences over the province's real communes, and valid, unique personal IDs.

use std::collections::HashMap;
use std::collections::VecDeque;

use rand::distr::{Distribution, weighted::WeightedIndex};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use time::{Date, Duration, macros::date};
use vaxtrace_domain::admin::Unit;
use vaxtrace_domain::{CitizenInput, admin_units};

/// Ages are drawn relative to the campaign's era, so the data fits 2021.
pub const REFERENCE_DAY: Date = date!(2021 - 08 - 01);

const FAMILY: &[(&str, u32)] = &[
    ("Nguyễn", 380),
    ("Trần", 110),
    ("Lê", 95),
    ("Phạm", 71),
    ("Hoàng", 31),
    ("Huỳnh", 20),
    ("Phan", 45),
    ("Vũ", 20),
    ("Võ", 19),
    ("Đặng", 21),
    ("Bùi", 20),
    ("Đỗ", 14),
    ("Hồ", 13),
    ("Ngô", 13),
    ("Dương", 10),
    ("Lý", 5),
    ("Đinh", 4),
    ("Trương", 4),
    ("Lâm", 4),
    ("Mai", 3),
    ("Tô", 2),
    ("Thạch", 3),
    ("Danh", 3),
];
const MIDDLE_M: &[&str] = &[
    "Văn", "Văn", "Văn", "Hữu", "Đức", "Minh", "Quốc", "Thanh", "Công", "Hoàng", "Ngọc", "Trọng",
];
const MIDDLE_F: &[&str] = &[
    "Thị", "Thị", "Thị", "Ngọc", "Thu", "Thanh", "Kim", "Mỹ", "Bích", "Hồng", "Phương",
];
const GIVEN_M: &[&str] = &[
    "An", "Bình", "Cường", "Dũng", "Đạt", "Hải", "Hiếu", "Hoàng", "Hùng", "Huy", "Khang", "Khoa",
    "Kiên", "Long", "Lộc", "Minh", "Nam", "Nghĩa", "Phát", "Phong", "Phúc", "Quân", "Quang", "Sơn",
    "Tài", "Thắng", "Thành", "Thịnh", "Toàn", "Trí", "Trung", "Tuấn", "Vinh", "Việt", "Bảo",
    "Đông", "Hòa", "Tâm", "Lực", "Thái",
];
const GIVEN_F: &[&str] = &[
    "Anh", "Châu", "Chi", "Diệp", "Dung", "Đào", "Giang", "Hà", "Hạnh", "Hằng", "Hoa", "Hương",
    "Huyền", "Lan", "Linh", "Loan", "Mai", "My", "Nga", "Ngân", "Ngọc", "Nhi", "Nhung", "Oanh",
    "Phương", "Quỳnh", "Thảo", "Thu", "Thúy", "Trang", "Trinh", "Tuyết", "Uyên", "Vân", "Vy",
    "Xuân", "Yến", "Hòa", "Liên", "Tâm",
];
const STREETS: &[&str] = &[
    "Trần Phú",
    "Nguyễn Trung Trực",
    "Lê Lợi",
    "Quang Trung",
    "Hai Bà Trưng",
    "Lý Thường Kiệt",
    "Nguyễn Huệ",
    "Phan Đình Phùng",
    "Mạc Cửu",
    "Lạc Hồng",
    "Ngô Quyền",
    "Trần Hưng Đạo",
    "Điện Biên Phủ",
    "Lâm Quang Ky",
];
/// Share of the population by five-year age band, 0–4 … 90–99 (2019 census, rounded, per mille).
const AGE_BANDS: &[u32] = &[
    80, 86, 76, 69, 70, 80, 84, 79, 72, 66, 60, 53, 43, 30, 19, 13, 10, 6, 4,
];
const HOUSEHOLD_SIZES: &[(usize, u32)] = &[(1, 10), (2, 18), (3, 22), (4, 27), (5, 13), (6, 10)];

#[derive(Debug)]
pub struct Population {
    rng: ChaCha8Rng,
    province: &'static str,
    communes: Vec<&'static Unit>,
    /// Birth-registration province codes (3 digits), mostly the home province.
    origin_codes: Vec<String>,
    id_counters: HashMap<u64, u64>,
    households: u64,
    pending: VecDeque<CitizenInput>,
    remaining: u64,
    family: WeightedIndex<u32>,
    ages: WeightedIndex<u32>,
    household_size: WeightedIndex<u32>,
}

impl Population {
    /// `province` is a 2-digit GSO code.
    pub fn new(province: &str, count: u64, seed: u64) -> anyhow::Result<Self> {
        let units = admin_units();
        let province = units
            .get(province)
            .filter(|u| u.parent.is_empty())
            .ok_or_else(|| {
                anyhow::anyhow!("unknown province code '{province}' (two digits, e.g. 91)")
            })?
            .code;
        let communes = units.communes_of_province(province);
        anyhow::ensure!(!communes.is_empty(), "province {province} has no communes");
        let origin_codes = units.provinces().map(|p| format!("0{}", p.code)).collect();
        Ok(Self {
            rng: ChaCha8Rng::seed_from_u64(seed),
            province,
            communes,
            origin_codes,
            id_counters: HashMap::new(),
            households: 0,
            pending: VecDeque::new(),
            remaining: count,
            family: WeightedIndex::new(FAMILY.iter().map(|f| f.1))?,
            ages: WeightedIndex::new(AGE_BANDS)?,
            household_size: WeightedIndex::new(HOUSEHOLD_SIZES.iter().map(|h| h.1))?,
        })
    }

    fn pick<'a>(&mut self, list: &[&'a str]) -> &'a str {
        list[self.rng.random_range(0..list.len())]
    }

    fn birth_date(&mut self, adult: bool) -> Date {
        let years = loop {
            let band = self.ages.sample(&mut self.rng) as i64;
            let age = band * 5 + self.rng.random_range(0..5);
            if !adult || (20..=80).contains(&age) {
                break age;
            }
        };
        REFERENCE_DAY - Duration::days(years * 365 + self.rng.random_range(0..365))
    }

    /// A unique ID: province of birth registration, century/sex digit, year, then a per-prefix
    /// counter scrambled by a bijection of 0..10^6 so suffixes look random yet never collide.
    fn personal_id(&mut self, male: bool, year: i32) -> String {
        let origin = if self.rng.random_bool(0.85) {
            format!("0{}", self.province)
        } else {
            self.origin_codes[self.rng.random_range(0..self.origin_codes.len())].clone()
        };
        let century = (year - 1900) / 100;
        let digit = century * 2 + i32::from(!male);
        let prefix: u64 = format!("{origin}{digit}{:02}", year % 100)
            .parse()
            .unwrap_or_default();
        let counter = self.id_counters.entry(prefix).or_insert(0);
        let n = *counter;
        *counter += 1;
        let suffix = (n * 104_729 + prefix * 7_919) % 1_000_000;
        format!("{prefix:06}{suffix:06}")
    }

    fn household(&mut self) {
        self.households += 1;
        let commune = self.communes[self.rng.random_range(0..self.communes.len())];
        let address = if commune.kind == "Xã" {
            format!(
                "Ấp {}, tổ {}",
                self.rng.random_range(1..12),
                self.rng.random_range(1..30)
            )
        } else {
            format!(
                "Số {} đường {}",
                self.rng.random_range(1..400),
                self.pick(STREETS)
            )
        };
        let family = FAMILY[self.family.sample(&mut self.rng)].0;
        let size = HOUSEHOLD_SIZES[self.household_size.sample(&mut self.rng)].0;
        let household_id = format!("HH{}-{:07}", self.province, self.households);
        for member in 0..size {
            let male = self.rng.random_bool(0.497);
            let born = self.birth_date(member == 0);
            let age = (REFERENCE_DAY - born).whole_days() / 365;
            // Children mostly carry the household's family name; spouses their own.
            let surname = if member == 0 || self.rng.random_bool(0.7) {
                family
            } else {
                FAMILY[self.family.sample(&mut self.rng)].0
            };
            let middle = self.pick(if male { MIDDLE_M } else { MIDDLE_F });
            let given = self.pick(if male { GIVEN_M } else { GIVEN_F });
            // Older citizens often have no recorded day, sometimes no month.
            let birth_date = match (age >= 70, self.rng.random_range(0..10)) {
                (true, 0..=1) => format!("{}", born.year()),
                (true, 2) => format!("{}-{:02}", born.year(), born.month() as u8),
                _ => format!(
                    "{}-{:02}-{:02}",
                    born.year(),
                    born.month() as u8,
                    born.day()
                ),
            };
            let (temporary_commune_code, temporary_address) =
                if age >= 18 && self.rng.random_bool(0.08) {
                    let other = self.communes[self.rng.random_range(0..self.communes.len())];
                    (
                        Some(other.code.to_owned()),
                        Some(format!("Phòng trọ số {}", self.rng.random_range(1..200))),
                    )
                } else {
                    (None, None)
                };
            let phone = (age >= 15 && self.rng.random_bool(0.8)).then(|| {
                let prefix = ["09", "03", "08", "07"][self.rng.random_range(0..4)];
                format!("{prefix}{:08}", self.rng.random_range(0..100_000_000))
            });
            let legacy_id = (born.year() < 2000 && self.rng.random_bool(0.7))
                .then(|| format!("3{:08}", self.rng.random_range(0..100_000_000)));
            let personal_id = self.personal_id(male, born.year());
            self.pending.push_back(CitizenInput {
                personal_id,
                full_name: format!("{surname} {middle} {given}"),
                birth_date,
                sex: if male { "M" } else { "F" }.into(),
                permanent_commune_code: commune.code.into(),
                permanent_address: address.clone(),
                temporary_commune_code,
                temporary_address,
                phone,
                legacy_id,
                household_id: Some(household_id.clone()),
                status: None,
            });
        }
    }
}

impl Iterator for Population {
    type Item = CitizenInput;

    fn next(&mut self) -> Option<CitizenInput> {
        if self.remaining == 0 {
            return None;
        }
        if self.pending.is_empty() {
            self.household();
        }
        self.remaining -= 1;
        self.pending.pop_front()
    }
}

/// One row in the column order of the import header without `status`.
pub fn csv_record(c: &CitizenInput) -> [&str; 11] {
    fn opt(o: Option<&String>) -> &str {
        o.map_or("", String::as_str)
    }
    [
        &c.personal_id,
        &c.full_name,
        &c.birth_date,
        &c.sex,
        &c.permanent_commune_code,
        &c.permanent_address,
        opt(c.temporary_commune_code.as_ref()),
        opt(c.temporary_address.as_ref()),
        opt(c.phone.as_ref()),
        opt(c.legacy_id.as_ref()),
        opt(c.household_id.as_ref()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn deterministic_valid_and_unique() {
        let a: Vec<_> = Population::new("91", 5_000, 7).unwrap().collect();
        let b: Vec<_> = Population::new("91", 5_000, 7).unwrap().collect();
        assert_eq!(a.len(), 5_000);
        assert!(
            a.iter()
                .zip(&b)
                .all(|(x, y)| x.personal_id == y.personal_id && x.full_name == y.full_name)
        );
        let ids: HashSet<_> = a.iter().map(|c| c.personal_id.clone()).collect();
        assert_eq!(ids.len(), a.len(), "IDs are unique");
        for c in &a {
            let parsed = c.parse(REFERENCE_DAY).unwrap_or_else(|e| panic!("{e}"));
            assert!(
                admin_units()
                    .lineage(parsed.permanent.unit_code)
                    .iter()
                    .any(|u| u.code == "91")
            );
        }
        let nguyen = a
            .iter()
            .filter(|c| c.full_name.starts_with("Nguyễn "))
            .count() as f64
            / a.len() as f64;
        assert!((0.3..0.5).contains(&nguyen), "Nguyễn share {nguyen}");
        let women = a.iter().filter(|c| c.sex == "F").count() as f64 / a.len() as f64;
        assert!((0.45..0.55).contains(&women));
    }

    #[test]
    fn unknown_province_is_an_error() {
        assert!(Population::new("99", 1, 1).is_err());
        assert!(Population::new("001", 1, 1).is_err());
    }
}
