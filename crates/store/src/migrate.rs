//! Forward-only, numbered migrations embedded per backend; applied ones are recorded in
//! `schema_migrations`.

pub(crate) struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

macro_rules! migrations {
    ($dir:literal: $($version:literal $name:literal),* $(,)?) => {
        &[$(Migration {
            version: $version,
            name: $name,
            sql: include_str!(concat!("../migrations/", $dir, "/", $name, ".sql")),
        }),*]
    };
}

pub(crate) const SQLITE: &[Migration] = migrations!("sqlite": 1 "0001_registry", 2 "0002_vaccinations", 3 "0003_certificates", 4 "0004_declarations", 5 "0005_tracing", 6 "0006_analytics", 7 "0007_citizen_app", 8 "0008_login_failures");
pub(crate) const POSTGRES: &[Migration] = migrations!("postgres": 1 "0001_registry", 2 "0002_vaccinations", 3 "0003_certificates", 4 "0004_declarations", 5 "0005_tracing", 6 "0006_analytics", 7 "0007_citizen_app", 8 "0008_login_failures");

/// Names of the migrations in `all` whose version is not in `applied`.
pub(crate) fn pending(all: &[Migration], applied: &[i64]) -> Vec<String> {
    all.iter()
        .filter(|m| !applied.contains(&m.version))
        .map(|m| m.name.to_owned())
        .collect()
}

pub(crate) const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (\
    version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_backends_have_the_same_migration_list() {
        let names = |m: &[Migration]| m.iter().map(|m| (m.version, m.name)).collect::<Vec<_>>();
        assert_eq!(names(SQLITE), names(POSTGRES));
        for (i, m) in SQLITE.iter().enumerate() {
            assert_eq!(m.version, i as i64 + 1, "versions are contiguous");
            assert!(m.name.starts_with(&format!("{:04}_", m.version)));
        }
    }
}
