//! The route table: every endpoint with its method, path, access rule and documentation. The router,
//! the access checks and the `OpenAPI` document are all generated from it, so an endpoint cannot exist
//! without a declared rule.

mod analytics;
mod auth;
mod certificates;
mod citizen;
mod citizens;
pub(crate) mod declarations;
mod fhir;
mod meta;
mod query;
mod trace;
mod vaccinations;

use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, header};
use axum::routing::MethodRouter;
use axum::{Router, middleware};
use serde::de::DeserializeOwned;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use vaxtrace_domain::Permission;

use crate::middleware::{log_request, reject_cross_site, require_access};
use crate::{ApiError, AppState, web};
pub use query::{ApiQuery, QueryShape};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Public,
    /// Any logged-in user.
    Authenticated,
    /// A logged-in user whose role has this permission.
    Permission(Permission),
    /// A logged-in user whose role has any of these permissions.
    AnyOf(&'static [Permission]),
}

impl Access {
    /// Whether a logged-in user of this role gets past the route's rule.
    pub fn admits(self, role: vaxtrace_domain::Role) -> bool {
        match self {
            Self::Public | Self::Authenticated => true,
            Self::Permission(p) => role.allows(p),
            Self::AnyOf(ps) => ps.iter().any(|p| role.allows(*p)),
        }
    }
}

/// Reviewers and signers both see the queue and the signatures.
const REVIEW_OR_SIGN: Access =
    Access::AnyOf(&[Permission::ReviewVaccinations, Permission::SignVaccinations]);

#[derive(Debug, Clone)]
pub struct Route {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
    pub tag: &'static str,
    pub summary: &'static str,
    /// Name of the request body schema in the `OpenAPI` components, if any.
    pub body: Option<&'static str>,
    /// Documented status codes.
    pub statuses: &'static [u16],
    /// The query parameters the handler reads, if any.
    pub query: Option<QueryShape>,
}

macro_rules! route {
    ($method:ident $path:literal, $access:expr, $tag:literal, $summary:literal, $body:expr, $statuses:expr) => {
        Route {
            method: Method::$method,
            path: $path,
            access: $access,
            tag: $tag,
            summary: $summary,
            body: $body,
            statuses: $statuses,
            query: None,
        }
    };
    ($method:ident $path:literal, $access:expr, $tag:literal, $summary:literal, $body:expr, $statuses:expr, query = $query:ty) => {
        Route {
            query: Some(QueryShape::of::<$query>()),
            ..route!($method $path, $access, $tag, $summary, $body, $statuses)
        }
    };
}

pub const ROUTES: &[Route] = &[
    route!(GET "/healthz", Access::Public, "meta", "Liveness and backend", None, &[200]),
    route!(GET "/api/openapi.json", Access::Public, "meta", "This OpenAPI document", None, &[200]),
    route!(GET "/api/v1/admin-units", Access::Public, "registry", "Administrative units: provinces, or the children of ?parent=CODE", None, &[200, 404], query = meta::UnitsQuery),
    route!(POST "/api/v1/auth/login", Access::Public, "auth", "Log in; returns an expiring bearer token and sets the session cookie. Five wrong passwords for a username within 15 minutes lock it for 15 minutes", Some("LoginRequest"), &[200, 400, 401, 413, 415, 422, 429]),
    route!(POST "/api/v1/auth/logout", Access::Authenticated, "auth", "End the current session", None, &[204, 401]),
    route!(GET "/api/v1/me", Access::Authenticated, "auth", "The logged-in user, role and jurisdiction", None, &[200, 401]),
    route!(POST "/api/v1/citizen/signup", Access::Public, "citizen app", "Sign up for the citizen app: personal ID, name and birth date must match the registry; a one-time code goes to the phone. Rate-limited per person and per phone", Some("SignupRequest"), &[202, 409, 413, 415, 422, 429, 503]),
    route!(POST "/api/v1/citizen/login", Access::Public, "citizen app", "Log in to the citizen app: a one-time code to the phone the account is bound to", Some("CitizenLoginRequest"), &[202, 413, 415, 422, 429, 503]),
    route!(POST "/api/v1/citizen/verify", Access::Public, "citizen app", "Type the one-time code: opens a session (and creates the account on sign-up). Locked after five wrong codes", Some("CodeRequest"), &[200, 401, 410, 413, 415, 422, 429]),
    route!(POST "/api/v1/citizen-accounts/{personal_id}/phone", Access::Permission(Permission::ManageCitizenAccounts), "citizen app", "Re-bind a citizen's app account to a new phone (the old one was lost); ends its sessions", Some("RebindRequest"), &[200, 401, 403, 404, 413, 415, 422]),
    route!(GET "/api/v1/me/people", Access::Permission(Permission::UseCitizenApp), "citizen app", "The people this account manages: the holder, then household members", None, &[200, 401, 403]),
    route!(POST "/api/v1/me/people", Access::Permission(Permission::UseCitizenApp), "citizen app", "Add a family member of the holder's registry household (name and birth date must match)", Some("AddPersonRequest"), &[201, 401, 403, 413, 415, 422]),
    route!(POST "/api/v1/me/people/{personal_id}/remove", Access::Permission(Permission::UseCitizenApp), "citizen app", "Stop managing a household member (never the holder)", None, &[204, 401, 403, 422]),
    route!(GET "/api/v1/me/card", Access::Permission(Permission::UseCitizenApp), "citizen app", "Health card of a managed person (?person): colour and rule, doses, certificate QR, current pass, F0 and quarantine, latest test, insurance card", None, &[200, 401, 403, 404, 422], query = citizen::PersonQuery),
    route!(POST "/api/v1/me/pass", Access::Permission(Permission::UseCitizenApp), "citizen app", "A fresh 72-hour pass for a managed person's newest declaration of the last 14 days (?person), made here or imported from an earlier app", None, &[200, 401, 403, 404, 422, 503], query = citizen::PersonQuery),
    route!(GET "/api/v1/me/certificate.html", Access::Permission(Permission::UseCitizenApp), "citizen app", "Printable certificate of a managed person (?person)", None, &[200, 401, 403, 404, 409, 422, 503], query = citizen::PersonQuery),
    route!(GET "/api/v1/me/fhir", Access::Permission(Permission::UseCitizenApp), "citizen app", "A managed person's record as a FHIR R4 Bundle (?person), to download", None, &[200, 401, 403, 404, 422], query = citizen::PersonQuery),
    route!(GET "/api/v1/me/history", Access::Permission(Permission::UseCitizenApp), "citizen app", "Declarations, check-ins, scans, vaccinations, tests and correction requests of a managed person (?person)", None, &[200, 401, 403, 404, 422], query = citizen::PersonQuery),
    route!(POST "/api/v1/me/corrections", Access::Permission(Permission::UseCitizenApp), "citizen app", "Report an error in a vaccination record: a correction request in the commune's review queue", Some("MyCorrectionRequest"), &[201, 401, 403, 404, 413, 415, 422]),
    route!(GET "/api/v1/me/privacy", Access::Permission(Permission::UseCitizenApp), "citizen app", "What is held about a managed person, how long, and who accessed it and why (officers as role and unit)", None, &[200, 401, 403, 404, 422], query = citizen::PersonQuery),
    route!(POST "/api/v1/identity/verify", Access::Permission(Permission::VerifyIdentity), "registry", "Does this personal ID match this name and birth date? Never reveals registry data", Some("VerifyRequest"), &[200, 400, 401, 403, 413, 415, 422]),
    route!(GET "/api/v1/citizens/{personal_id}", Access::Permission(Permission::ReadCitizen), "registry", "A citizen's registry record (officers whose jurisdiction holds a residence of the citizen)", None, &[200, 401, 403, 404, 422]),
    route!(POST "/api/v1/citizens/lookup-qr", Access::Permission(Permission::ReadCitizen), "registry", "Look a citizen up by the chip ID card's QR text and check the card against the registry", Some("QrLookupRequest"), &[200, 400, 401, 403, 404, 413, 415, 422]),
    route!(POST "/api/v1/vaccinations", Access::Permission(Permission::RecordVaccination), "vaccinations", "Record one shot; it is matched to the registry at once. Idempotent on (source, source_record_id)", Some("ShotInput"), &[200, 201, 401, 403, 409, 413, 415, 422]),
    route!(GET "/api/v1/vaccinations/queue", Access::Permission(Permission::ReviewVaccinations), "vaccinations", "The verification and cleaning queue of the caller's area (?decision=review,unmatched&after=ID&limit=N)", None, &[200, 401, 403, 422], query = crate::vaccinations::QueueQuery),
    route!(GET "/api/v1/vaccinations/counts", REVIEW_OR_SIGN, "vaccinations", "Records per unit and decision, and how many wait for a signature", None, &[200, 401, 403]),
    route!(POST "/api/v1/vaccinations/bulk-review", Access::Permission(Permission::ReviewVaccinations), "vaccinations", "One decision (confirm_best or reject) for many records", Some("BulkRequest"), &[200, 400, 401, 403, 422]),
    route!(GET "/api/v1/vaccinations/{id}", Access::Permission(Permission::ReviewVaccinations), "vaccinations", "A record with its candidate citizens, per-field evidence and correction history", None, &[200, 401, 403, 404]),
    route!(POST "/api/v1/vaccinations/{id}/review", Access::Permission(Permission::ReviewVaccinations), "vaccinations", "Link, reject, mark duplicate or correct a record (versioned, audited)", Some("ReviewRequest"), &[200, 401, 403, 404, 409, 422]),
    route!(GET "/api/v1/vaccinations/{id}/correction-requests", Access::Permission(Permission::ReviewVaccinations), "vaccinations", "A record's correction requests and whether they were handled", None, &[200, 401, 403, 404]),
    route!(POST "/api/v1/vaccinations/{id}/correction-requests", Access::Permission(Permission::ReviewVaccinations), "vaccinations", "File a citizen's request to correct a record; its next review handles it", Some("CorrectionRequestInput"), &[201, 401, 403, 404, 409, 413, 415, 422]),
    route!(GET "/api/v1/coverage", Access::Permission(Permission::ReadAnalytics), "analytics", "Live vaccination coverage of an area by unit (?area&level&date&basis=residence|site&format=json|csv|parquet)", None, &[200, 401, 403, 422], query = crate::analytics::AnalyticsQuery),
    route!(GET "/api/v1/coverage/series", Access::Permission(Permission::ReadAnalytics), "analytics", "Doses and people per day and cumulative for an area (?area&from&to&basis)", None, &[200, 401, 403, 422], query = crate::analytics::AnalyticsQuery),
    route!(GET "/api/v1/coverage/lowest", Access::Permission(Permission::ReadAnalytics), "analytics", "Communes with the lowest adult coverage (?area&date&metric=dose1|full&limit)", None, &[200, 401, 403, 422], query = crate::analytics::AnalyticsQuery),
    route!(GET "/api/v1/coverage/due", Access::Permission(Permission::ReadAnalytics), "analytics", "People due for their next dose per commune (?area&date)", None, &[200, 401, 403, 422], query = crate::analytics::AnalyticsQuery),
    route!(GET "/api/v1/analytics/supervision", Access::Permission(Permission::ReadAnalytics), "analytics", "Verification work per unit, ranked worst first (?area&level&from&to)", None, &[200, 401, 403, 422], query = crate::analytics::AnalyticsQuery),
    route!(GET "/api/v1/analytics/flows", Access::Permission(Permission::ReadMovementCounts), "analytics", "Origin-destination flows from declarations and scans (?area&level=province|district&from&to&format=json|csv)", None, &[200, 401, 403, 422], query = crate::analytics::AnalyticsQuery),
    route!(GET "/api/v1/vaccinations/{id}/signature", REVIEW_OR_SIGN, "vaccinations", "Check a record's signature up to the national root", None, &[200, 401, 403, 404]),
    route!(GET "/api/v1/signing/pending", Access::Permission(Permission::SignVaccinations), "signing", "Verified records of the signer's commune waiting for a signature", None, &[200, 401, 403], query = vaccinations::PageQuery),
    route!(POST "/api/v1/signing/sign", Access::Permission(Permission::SignVaccinations), "signing", "Sign record versions with the commune's key", Some("SignRequest"), &[200, 400, 401, 403, 409, 503]),
    route!(GET "/api/v1/citizens/{personal_id}/status", Access::Permission(Permission::ReadStatusColour), "vaccinations", "Vaccination colour and rule version; doses for health officers only", None, &[200, 401, 403, 404, 422]),
    route!(POST "/api/v1/citizens/status-by-qr", Access::Permission(Permission::ReadStatusColour), "vaccinations", "The same status from the chip ID card's QR text", Some("QrLookupRequest"), &[200, 401, 403, 404, 422]),
    route!(GET "/api/v1/citizens/{personal_id}/vaccinations", Access::Permission(Permission::ReadCitizen), "vaccinations", "Every record linked to a citizen", None, &[200, 401, 403, 404, 422]),
    route!(GET "/api/v1/citizens/{personal_id}/certificate", Access::Permission(Permission::ReadCitizen), "certificates", "EU Digital COVID Certificate (HCERT) of the latest signed dose: {hc1, uvci, payload, svg}; the current one again while its record is unchanged. 409 without a signed dose, 503 without a document signer key", None, &[200, 401, 403, 404, 409, 422, 503]),
    route!(GET "/api/v1/citizens/{personal_id}/certificate.html", Access::Permission(Permission::ReadCitizen), "certificates", "The same certificate as a printable bilingual page (text/html)", None, &[200, 401, 403, 404, 409, 422, 503]),
    route!(GET "/api/v1/citizens/{personal_id}/certificates", Access::Permission(Permission::ReadCitizen), "certificates", "Every certificate issued to a citizen, with revocations and replacements", None, &[200, 401, 403, 404, 422]),
    route!(GET "/api/v1/citizens/{personal_id}/fhir", Access::Permission(Permission::ReadCitizen), "fhir", "A citizen and their linked vaccination records as a FHIR R4 Bundle (application/fhir+json): one Patient, an Immunization per record (duplicates as entered-in-error)", None, &[200, 401, 403, 404, 422]),
    route!(POST "/api/v1/fhir/import", Access::Permission(Permission::RecordVaccination), "fhir", "Record the completed Immunizations of a FHIR R4 Bundle, each matched to the registry as by POST /api/v1/vaccinations. Any problem refuses the whole bundle: 422 with every issue at its FHIRPath location and an OperationOutcome; the refusal is audited", Some("FhirBundle"), &[200, 400, 401, 403, 413, 415, 422]),
    route!(POST "/api/v1/certificates/{uvci}/revoke", Access::Permission(Permission::RevokeCertificates), "certificates", "Revoke a certificate; it is on the revocation list from then on", Some("RevokeRequest"), &[200, 401, 403, 404, 413, 415, 422]),
    route!(GET "/api/v1/trust-list", Access::Public, "certificates", "The document signers to trust (this country's and imported ones), signed by the CSCA", None, &[200, 503]),
    route!(GET "/api/v1/revocation-list", Access::Public, "certificates", "Revoked, unexpired certificates as EU-style UCI hash batches, signed by the CSCA", None, &[200, 503]),
    route!(POST "/api/v1/declarations", Access::Authenticated, "declarations", "Health and travel declaration, checked against the registry (the mismatching field is named, never the registry's value), routed to the commune police; returns a 72-hour pass", Some("DeclarationInput"), &[201, 401, 413, 415, 422, 503]),
    route!(POST "/api/v1/declarations/pass", Access::Authenticated, "declarations", "A fresh 72-hour pass for the person's newest declaration (made here or imported from an earlier app), once name and birth date agree with the registry", Some("VerifyRequest"), &[200, 401, 404, 413, 415, 422, 503]),
    route!(POST "/api/v1/declarations/{id}/revoke", Access::Permission(Permission::ManageMovementControl), "declarations", "Withdraw a declaration whose journey passes through the caller's area; its pass stops at once", None, &[200, 401, 403, 404]),
    route!(POST "/api/v1/checkpoints/scan", Access::Permission(Permission::ScanCheckpoint), "declarations", "Scan a pass or a chip ID card QR at a checkpoint: valid / expired / revoked / forged / no_declaration, with what the officer needs", Some("ScanRequest"), &[200, 400, 401, 403, 404, 413, 415, 422]),
    route!(GET "/api/v1/checkpoints", Access::Authenticated, "declarations", "Registered checkpoints", None, &[200, 401]),
    route!(POST "/api/v1/checkpoints", Access::Permission(Permission::ManageMovementControl), "declarations", "Register or update a checkpoint in the caller's area", Some("CheckpointRequest"), &[200, 401, 403, 413, 415, 422]),
    route!(GET "/api/v1/declarations/inbox", Access::Permission(Permission::ReadDeclarationInbox), "declarations", "Declarations routed to the caller's commune (?from&to&origin_province&risk&outbreak&unread&before&limit)", None, &[200, 401, 403, 422], query = crate::declarations::InboxQuery),
    route!(GET "/api/v1/declarations/inbox.csv", Access::Permission(Permission::ReadDeclarationInbox), "declarations", "The same inbox page as CSV", None, &[200, 401, 403, 422], query = crate::declarations::InboxQuery),
    route!(POST "/api/v1/declarations/inbox/ack", Access::Permission(Permission::ReadDeclarationInbox), "declarations", "Mark inbox declarations as followed up", Some("AckRequest"), &[200, 400, 401, 403, 413, 415, 422]),
    route!(GET "/api/v1/declarations/counts", Access::Permission(Permission::ReadMovementCounts), "declarations", "Declaration counts per commune of the caller's area (?from&to as YYYY-MM-DD): no personal data", None, &[200, 401, 403, 422], query = crate::declarations::CountsQuery),
    route!(GET "/api/v1/outbreak-areas", Access::Authenticated, "declarations", "Outbreak areas in force today", None, &[200, 401]),
    route!(POST "/api/v1/outbreak-areas", Access::Permission(Permission::ManageMovementControl), "declarations", "Mark a province, district or commune of the caller's area as an outbreak area for a period", Some("OutbreakRequest"), &[200, 401, 403, 413, 415, 422]),
    route!(POST "/api/v1/dcc/verify", Access::Authenticated, "certificates", "Verify a scanned HC1 text step by step against the current trust and revocation lists", Some("VerifyDccRequest"), &[200, 401, 413, 415, 422]),
    route!(POST "/api/v1/venues", Access::Permission(Permission::ManageVenues), "tracing", "Register a venue (business, office, public place, household); returns its signed check-in code", Some("VenueInput"), &[201, 401, 403, 413, 415, 422, 503]),
    route!(GET "/api/v1/venues", Access::Permission(Permission::ManageVenues), "tracing", "The caller's venues with their check-in codes", None, &[200, 401, 403, 503]),
    route!(GET "/api/v1/venues/{id}", Access::Permission(Permission::ManageVenues), "tracing", "One of the caller's venues", None, &[200, 401, 403, 404, 503]),
    route!(POST "/api/v1/venues/{id}/active", Access::Permission(Permission::ManageVenues), "tracing", "Close or reopen a venue; a closed venue's poster stops working", Some("ActiveRequest"), &[200, 401, 403, 404, 422]),
    route!(GET "/api/v1/venues/{id}/poster.html", Access::Permission(Permission::ManageVenues), "tracing", "The printable bilingual check-in poster (text/html)", None, &[200, 401, 403, 404, 503]),
    route!(GET "/api/v1/venues/{id}/poster.png", Access::Permission(Permission::ManageVenues), "tracing", "The same poster as a PNG image", None, &[200, 401, 403, 404, 503]),
    route!(POST "/api/v1/checkins", Access::Authenticated, "tracing", "Check in: the person scanned the poster (venue_code) and confirms with ID and birth date, or the venue (venue_id) scanned their chip ID card or pass. A repeat is not stored twice", Some("CheckinRequest"), &[200, 201, 400, 401, 403, 404, 409, 413, 415, 422]),
    route!(POST "/api/v1/checkins/checkout", Access::Authenticated, "tracing", "Check out of the latest stay at a venue", Some("CheckinRequest"), &[200, 400, 401, 403, 404, 409, 413, 415, 422]),
    route!(POST "/api/v1/checkins/batch", Access::Permission(Permission::ManageVenues), "tracing", "Check-ins an offline venue collected; each refused item comes back with its reason", Some("BatchRequest"), &[200, 401, 403, 404, 409, 413, 415, 422]),
    route!(POST "/api/v1/tests", Access::Permission(Permission::RecordTests), "tracing", "Report a PCR or rapid antigen result; the same (lab, lab_ref) again is not stored twice", Some("TestInput"), &[200, 201, 401, 403, 413, 415, 422]),
    route!(POST "/api/v1/cases", Access::Permission(Permission::TraceCases), "tracing", "Confirm a positive result as a case (F0); returns its case ID", Some("CaseRequest"), &[201, 401, 403, 404, 409, 413, 415, 422]),
    route!(GET "/api/v1/cases/{case_id}", Access::Permission(Permission::TraceCases), "tracing", "A case", None, &[200, 401, 403, 404, 422]),
    route!(POST "/api/v1/cases/{case_id}/recover", Access::Permission(Permission::TraceCases), "tracing", "Close a case: F0 recovered", Some("RecoveryRequest"), &[200, 401, 403, 404, 409, 413, 415, 422]),
    route!(GET "/api/v1/cases/{case_id}/timeline", Access::Permission(Permission::TraceCases), "tracing", "The case's movements over the infectious window (?days_before): check-ins, checkpoint scans, declarations", None, &[200, 401, 403, 404, 422], query = crate::contact_trace::TraceQuery),
    route!(GET "/api/v1/cases/{case_id}/timeline.csv", Access::Permission(Permission::TraceCases), "tracing", "The same timeline as CSV", None, &[200, 401, 403, 404, 422], query = crate::contact_trace::TraceQuery),
    route!(POST "/api/v1/cases/{case_id}/trace", Access::Permission(Permission::TraceCases), "tracing", "Find the F1s (venue overlaps, household) and F2s, store them and route each to the commune they live in", Some("TraceQuery"), &[200, 401, 403, 404, 413, 415, 422]),
    route!(GET "/api/v1/cases/{case_id}/contacts", Access::Permission(Permission::TraceCases), "tracing", "The contacts of the case's last trace, with their evidence", None, &[200, 401, 403, 404, 422]),
    route!(GET "/api/v1/contacts", Access::Permission(Permission::ReadContacts), "tracing", "Contacts living in the caller's area (?since=YYYY-MM-DD&limit)", None, &[200, 401, 403, 422], query = crate::contact_trace::AreaContactsQuery),
    route!(POST "/api/v1/quarantines", Access::Permission(Permission::ManageQuarantine), "tracing", "Order home or facility quarantine for a person of the caller's area", Some("QuarantineInput"), &[201, 401, 403, 404, 413, 415, 422]),
    route!(GET "/api/v1/quarantines", Access::Permission(Permission::ReadContacts), "tracing", "Quarantine orders in force in the caller's area, soonest to end first (?on&ending_by&limit)", None, &[200, 401, 403, 422], query = crate::quarantines::QuarantineQuery),
    route!(POST "/api/v1/quarantines/{id}/release", Access::Permission(Permission::ManageQuarantine), "tracing", "End a quarantine order early", Some("ReleaseRequest"), &[200, 401, 403, 404, 409, 413, 415, 422]),
    route!(GET "/api/v1/citizens/{personal_id}/movements", Access::Permission(Permission::TraceCases), "tracing", "Break-glass: a person's movements without a case ID (?reason, required; ?days); every use is reviewed", None, &[200, 401, 403, 404, 422], query = crate::contact_trace::BreakGlassQuery),
    route!(GET "/api/v1/break-glass", Access::Permission(Permission::ReadAudit), "tracing", "Break-glass accesses waiting for review", None, &[200, 401, 403]),
    route!(POST "/api/v1/break-glass/{id}/review", Access::Permission(Permission::ReadAudit), "tracing", "Record the review of a break-glass access", Some("BreakGlassReview"), &[200, 401, 403, 404, 409, 413, 415, 422]),
];

/// POSTs that only read: their question is a body so that personal data stays out of URLs.
const READ_ONLY_POSTS: &[&str] = &[
    "/api/v1/identity/verify",
    "/api/v1/citizens/lookup-qr",
    "/api/v1/citizens/status-by-qr",
    "/api/v1/dcc/verify",
];

impl Route {
    /// Whether the route changes data (its caller must then read their own write back).
    pub fn writes(&self) -> bool {
        !self.method.is_safe() && !READ_ONLY_POSTS.contains(&self.path)
    }
}

fn handler(route: &Route) -> MethodRouter<AppState> {
    match route.path {
        "/healthz" => meta::health(),
        "/api/openapi.json" => meta::openapi(),
        "/api/v1/admin-units" => meta::units(),
        "/api/v1/auth/login" => auth::login(),
        "/api/v1/auth/logout" => auth::logout(),
        "/api/v1/me" => auth::me(),
        "/api/v1/citizen/signup" => citizen::signup(),
        "/api/v1/citizen/login" => citizen::login(),
        "/api/v1/citizen/verify" => citizen::verify(),
        "/api/v1/citizen-accounts/{personal_id}/phone" => citizen::rebind_phone(),
        "/api/v1/me/people" if route.method == Method::GET => citizen::people(),
        "/api/v1/me/people" => citizen::add_person(),
        "/api/v1/me/people/{personal_id}/remove" => citizen::remove_person(),
        "/api/v1/me/card" => citizen::card(),
        "/api/v1/me/pass" => citizen::renew_pass(),
        "/api/v1/me/certificate.html" => citizen::certificate_page(),
        "/api/v1/me/fhir" => citizen::fhir(),
        "/api/v1/me/history" => citizen::history(),
        "/api/v1/me/corrections" => citizen::file_correction(),
        "/api/v1/me/privacy" => citizen::privacy(),
        "/api/v1/identity/verify" => citizens::verify(),
        "/api/v1/citizens/{personal_id}" => citizens::get(),
        "/api/v1/citizens/lookup-qr" => citizens::lookup_qr(),
        "/api/v1/vaccinations" => vaccinations::record(),
        "/api/v1/vaccinations/queue" => vaccinations::queue(),
        "/api/v1/vaccinations/counts" => vaccinations::counts(),
        "/api/v1/vaccinations/bulk-review" => vaccinations::bulk_review(),
        "/api/v1/vaccinations/{id}" => vaccinations::detail(),
        "/api/v1/vaccinations/{id}/review" => vaccinations::review(),
        "/api/v1/vaccinations/{id}/signature" => vaccinations::signature(),
        "/api/v1/vaccinations/{id}/correction-requests" if route.method == Method::GET => {
            analytics::correction_requests()
        }
        "/api/v1/vaccinations/{id}/correction-requests" => analytics::file_correction_request(),
        "/api/v1/coverage" => analytics::coverage(),
        "/api/v1/coverage/series" => analytics::series(),
        "/api/v1/coverage/lowest" => analytics::lowest(),
        "/api/v1/coverage/due" => analytics::due(),
        "/api/v1/analytics/supervision" => analytics::supervision(),
        "/api/v1/analytics/flows" => analytics::flows(),
        "/api/v1/signing/pending" => vaccinations::pending(),
        "/api/v1/signing/sign" => vaccinations::sign(),
        "/api/v1/citizens/{personal_id}/status" => vaccinations::status(),
        "/api/v1/citizens/status-by-qr" => vaccinations::status_by_qr(),
        "/api/v1/citizens/{personal_id}/vaccinations" => vaccinations::history(),
        "/api/v1/citizens/{personal_id}/certificate" => certificates::citizen_certificate(),
        "/api/v1/citizens/{personal_id}/certificate.html" => certificates::printable(),
        "/api/v1/citizens/{personal_id}/certificates" => certificates::citizen_certificates(),
        "/api/v1/citizens/{personal_id}/fhir" => fhir::export(),
        "/api/v1/fhir/import" => fhir::import(),
        "/api/v1/certificates/{uvci}/revoke" => certificates::revoke(),
        "/api/v1/trust-list" => certificates::trust_list(),
        "/api/v1/revocation-list" => certificates::revocation_list(),
        "/api/v1/dcc/verify" => certificates::verify(),
        "/api/v1/declarations" => declarations::submit(),
        "/api/v1/declarations/pass" => declarations::renew_pass(),
        "/api/v1/declarations/{id}/revoke" => declarations::revoke(),
        "/api/v1/checkpoints/scan" => declarations::scan(),
        "/api/v1/checkpoints" if route.method == Method::GET => declarations::checkpoints(),
        "/api/v1/checkpoints" => declarations::add_checkpoint(),
        "/api/v1/declarations/inbox" => declarations::inbox(),
        "/api/v1/declarations/inbox.csv" => declarations::inbox_export(),
        "/api/v1/declarations/inbox/ack" => declarations::acknowledge(),
        "/api/v1/declarations/counts" => declarations::counts(),
        "/api/v1/outbreak-areas" if route.method == Method::GET => declarations::outbreak_areas(),
        "/api/v1/outbreak-areas" => declarations::add_outbreak_area(),
        "/api/v1/venues" if route.method == Method::GET => trace::my_venues(),
        "/api/v1/venues" => trace::register_venue(),
        "/api/v1/venues/{id}" => trace::venue(),
        "/api/v1/venues/{id}/active" => trace::venue_active(),
        "/api/v1/venues/{id}/poster.html" => trace::poster(),
        "/api/v1/venues/{id}/poster.png" => trace::poster_png(),
        "/api/v1/checkins" => trace::check_in(),
        "/api/v1/checkins/checkout" => trace::check_out(),
        "/api/v1/checkins/batch" => trace::batch(),
        "/api/v1/tests" => trace::record_test(),
        "/api/v1/cases" => trace::confirm_case(),
        "/api/v1/cases/{case_id}" => trace::case(),
        "/api/v1/cases/{case_id}/recover" => trace::recover(),
        "/api/v1/cases/{case_id}/timeline" => trace::timeline(),
        "/api/v1/cases/{case_id}/timeline.csv" => trace::timeline_csv(),
        "/api/v1/cases/{case_id}/trace" => trace::trace(),
        "/api/v1/cases/{case_id}/contacts" => trace::case_contacts(),
        "/api/v1/contacts" => trace::area_contacts(),
        "/api/v1/quarantines" if route.method == Method::GET => trace::quarantines(),
        "/api/v1/quarantines" => trace::order_quarantine(),
        "/api/v1/quarantines/{id}/release" => trace::release_quarantine(),
        "/api/v1/citizens/{personal_id}/movements" => trace::movements(),
        "/api/v1/break-glass" => trace::break_glass_pending(),
        "/api/v1/break-glass/{id}/review" => trace::review_break_glass(),
        other => unreachable!("route {other} has no handler"),
    }
}

pub fn router(state: AppState) -> Router {
    let mut api = Router::new();
    for route in ROUTES {
        let mut method_router = handler(route);
        if route.access != Access::Public {
            method_router = method_router.route_layer(middleware::from_fn_with_state(
                (state.clone(), route.access, route.writes()),
                require_access,
            ));
        }
        api = api.route(route.path, method_router);
    }
    let limit = state.config.max_body_bytes;
    api.merge(web::router())
        .fallback(|| async { ApiError::not_found("trang", "Page") })
        .layer(middleware::from_fn(reject_cross_site))
        .layer(middleware::from_fn(log_request))
        .layer(RequestBodyLimitLayer::new(limit))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"),
        ))
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::overriding(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
        .with_state(state)
}

/// `Json<T>` whose rejections are bilingual [`ApiError`]s.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Self(v)),
            Err(rejection) => Err(json_rejection(&rejection)),
        }
    }
}

/// `Path<T>` whose rejections (an ID that is not a number, out of range) are bilingual
/// [`ApiError`]s like every other error.
#[derive(Debug)]
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(Self(v)),
            // A template without the parameter is this server's bug, not the client's.
            Err(PathRejection::MissingPathParams(_)) => Err(ApiError::internal()),
            Err(_) => Err(ApiError::bad_request(
                "invalid_path",
                "Tham số trong đường dẫn không hợp lệ",
                "Malformed path parameter",
            )),
        }
    }
}

fn json_rejection(rejection: &JsonRejection) -> ApiError {
    use axum::http::StatusCode;
    match rejection {
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Cần Content-Type: application/json",
            "Expected Content-Type: application/json",
        ),
        JsonRejection::BytesRejection(_) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                "Dữ liệu gửi lên quá lớn",
                "Request body too large",
            )
        }
        JsonRejection::JsonDataError(e) => {
            let mut err = ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_body",
                "Thiếu trường hoặc sai kiểu dữ liệu",
                "Missing field or wrong type",
            );
            err.message_en = format!(
                "Missing field or wrong type: {}",
                e.body_text().rsplit(": ").next().unwrap_or_default()
            );
            err
        }
        _ => ApiError::bad_request("invalid_json", "JSON không hợp lệ", "Malformed JSON"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_only_posts_are_posts_of_the_table() {
        for path in READ_ONLY_POSTS {
            let route = ROUTES.iter().find(|r| r.path == *path);
            assert!(
                route.is_some_and(|r| r.method == Method::POST && !r.writes()),
                "{path} is not a POST route"
            );
        }
        let recording = ROUTES
            .iter()
            .find(|r| r.path == "/api/v1/vaccinations")
            .unwrap();
        assert!(recording.writes());
        assert!(!ROUTES.iter().any(|r| r.method == Method::GET && r.writes()));
    }
}
