//! The storage layer's one error type. Messages never carry row values (they may be personal data).

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule was violated (e.g. a username that exists).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database holds something the domain rejects: a bug or tampering, never user input.
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    /// The database URL or options are wrong.
    #[error("configuration: {0}")]
    Config(String),
    /// The row named does not exist.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The database could not be reached, or refused the work.
    #[error("database: {0}")]
    Database(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::ConstraintViolation) => Self::Conflict(e.to_string()),
            _ => Self::Database(e.to_string()),
        }
    }
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> Self {
        match e.as_db_error() {
            // Only the code and the server's message: the DETAIL line can echo row values.
            Some(db) if db.code() == &tokio_postgres::error::SqlState::UNIQUE_VIOLATION => {
                Self::Conflict(db.message().to_owned())
            }
            Some(db) => Self::Database(format!("{}: {}", db.code().code(), db.message())),
            // Client-side failures (e.g. a type mismatch) name types, never values.
            None => Self::Database(match std::error::Error::source(&e) {
                Some(cause) => format!("{e}: {cause}"),
                None => e.to_string(),
            }),
        }
    }
}

impl From<deadpool_postgres::PoolError> for StoreError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        match e {
            deadpool_postgres::PoolError::Backend(e) => e.into(),
            other => Self::Database(other.to_string()),
        }
    }
}

impl From<tokio::task::JoinError> for StoreError {
    fn from(e: tokio::task::JoinError) -> Self {
        Self::Database(format!("database task failed: {e}"))
    }
}
