//! Age bands by birth-year cohort, as the 2021 campaign defined them ("trẻ 12–17 tuổi, sinh từ
//! 2004 đến 2009"). A cohort rule is versioned like the status rules: a new reference year is a new
//! version and a recount.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Band {
    Under12,
    Age12To17,
    Age18To64,
    Age65Plus,
}

impl Band {
    pub const ALL: [Band; 4] = [
        Self::Under12,
        Self::Age12To17,
        Self::Age18To64,
        Self::Age65Plus,
    ];

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn from_index(i: usize) -> Option<Self> {
        Self::ALL.get(i).copied()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AgeRule {
    pub version: &'static str,
    /// Age is this year minus the birth year.
    pub reference_year: i32,
}

pub const AGE_RULE: AgeRule = AgeRule {
    version: "VN-COHORT-2021",
    reference_year: 2021,
};

/// One reported band, as the API describes it.
#[derive(Debug, Clone, Serialize)]
pub struct BandInfo {
    pub code: &'static str,
    pub label_vi: &'static str,
    pub label_en: &'static str,
    pub born_from: Option<i32>,
    pub born_to: Option<i32>,
}

impl AgeRule {
    pub fn band(&self, birth_year: i32) -> Band {
        match self.reference_year - birth_year {
            ..12 => Band::Under12,
            12..18 => Band::Age12To17,
            18..65 => Band::Age18To64,
            _ => Band::Age65Plus,
        }
    }

    /// The bands the reports show (adults = 18–64 and 65+ together), with their cohorts.
    pub fn reported_bands(&self) -> Vec<BandInfo> {
        let y = self.reference_year;
        vec![
            BandInfo {
                code: "under_12",
                label_vi: "Dưới 12 tuổi",
                label_en: "Under 12",
                born_from: Some(y - 11),
                born_to: None,
            },
            BandInfo {
                code: "age_12_17",
                label_vi: "12–17 tuổi",
                label_en: "12–17",
                born_from: Some(y - 17),
                born_to: Some(y - 12),
            },
            BandInfo {
                code: "adults",
                label_vi: "Từ 18 tuổi",
                label_en: "18 and over",
                born_from: None,
                born_to: Some(y - 18),
            },
            BandInfo {
                code: "age_65_plus",
                label_vi: "Từ 65 tuổi",
                label_en: "65 and over",
                born_from: None,
                born_to: Some(y - 65),
            },
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cohorts_of_2021() {
        let r = AGE_RULE;
        assert_eq!(r.band(2010), Band::Under12);
        assert_eq!(r.band(2009), Band::Age12To17);
        assert_eq!(r.band(2004), Band::Age12To17);
        assert_eq!(r.band(2003), Band::Age18To64);
        assert_eq!(r.band(1957), Band::Age18To64);
        assert_eq!(r.band(1956), Band::Age65Plus);
        let bands = r.reported_bands();
        assert_eq!(
            (bands[1].born_from, bands[1].born_to),
            (Some(2004), Some(2009))
        );
        assert_eq!(bands[2].born_to, Some(2003));
    }
}
