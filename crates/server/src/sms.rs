//! Sending one-time codes by SMS: an HTTP gateway in production, a local outbox file in
//! development. Neither logs the phone number or the text.

use std::fmt;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

#[derive(Debug, thiserror::Error)]
#[error("SMS not sent: {0}")]
pub struct SmsError(String);

/// Where codes go; the sign-up answer tells the user which (`delivery`).
pub trait SmsSender: Send + Sync + fmt::Debug {
    /// Blocking: called on the blocking pool.
    fn send(&self, to: &str, text: &str) -> Result<(), SmsError>;
    /// `sms` for a real gateway, `outbox` for the development file.
    fn delivery(&self) -> &'static str;
}

/// Development: appends `{"at","to","text"}` lines to a file the developer (or a test) reads.
#[derive(Debug)]
pub struct OutboxSms {
    path: PathBuf,
    lock: Mutex<()>,
}

impl OutboxSms {
    pub fn new(path: PathBuf) -> Self {
        Self {
            path,
            lock: Mutex::new(()),
        }
    }
}

impl SmsSender for OutboxSms {
    fn send(&self, to: &str, text: &str) -> Result<(), SmsError> {
        let at = OffsetDateTime::now_utc()
            .format(&Rfc3339)
            .unwrap_or_default();
        let line = json!({ "at": at, "to": to, "text": text }).to_string();
        let _guard = self
            .lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(|e| SmsError(format!("outbox {}: {e}", self.path.display())))?;
        writeln!(file, "{line}").map_err(|e| SmsError(format!("outbox: {e}")))
    }

    fn delivery(&self) -> &'static str {
        "outbox"
    }
}

/// Production: `POST <url>` with `{"to", "text"}` JSON and an optional bearer token, the shape
/// most SMS brand-name gateways accept behind a small adapter.
pub struct HttpGatewaySms {
    url: String,
    token: Option<String>,
    agent: ureq::Agent,
}

impl fmt::Debug for HttpGatewaySms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpGatewaySms")
            .field("url", &self.url)
            .field("token", &self.token.as_ref().map(|_| "***"))
            .finish_non_exhaustive()
    }
}

impl HttpGatewaySms {
    pub fn new(url: String, token: Option<String>) -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(10)))
            .http_status_as_error(false)
            .build()
            .into();
        Self { url, token, agent }
    }
}

impl SmsSender for HttpGatewaySms {
    fn send(&self, to: &str, text: &str) -> Result<(), SmsError> {
        let body = json!({ "to": to, "text": text }).to_string();
        let mut request = self
            .agent
            .post(&self.url)
            .header("content-type", "application/json");
        if let Some(token) = &self.token {
            request = request.header("authorization", &format!("Bearer {token}"));
        }
        match request.send(body.as_bytes()) {
            Ok(response) if response.status().is_success() => Ok(()),
            Ok(response) => Err(SmsError(format!("gateway answered {}", response.status()))),
            // ureq's errors name the host and the failure, never the body.
            Err(e) => Err(SmsError(format!("gateway unreachable: {e}"))),
        }
    }

    fn delivery(&self) -> &'static str {
        "sms"
    }
}
