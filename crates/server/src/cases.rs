//! Laboratory results, confirmed cases (F0) and recovery, and the health flags (F0, quarantine)
//! that status lookups, checkpoint scans and venue scans show.

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use vaxtrace_domain::date::{parse_day, vietnam_day};
use vaxtrace_domain::{Citizen, Permission, PersonalId};
use vaxtrace_store::{Area, NewCase, NewTest, StoredCase, StoredTest};
use vaxtrace_trace::case::parse_case_id;
use vaxtrace_trace::{TestInput, TestOutcome, TestResult};

use crate::middleware::Caller;
use crate::services::{parse_time, read_citizen};
use crate::venues::PURPOSE;
use crate::{ApiError, AppState};

/// The unit tracing and quarantine are routed to: where the person lives now.
pub(crate) fn residence_area(citizen: &Citizen) -> Area {
    let unit = citizen
        .temporary
        .as_ref()
        .map_or(citizen.permanent.unit_code, |t| t.unit_code);
    Area::of(unit)
}

/// A personal ID that is well formed but not in the registry.
pub(crate) fn unknown_citizen() -> vaxtrace_domain::ParseError {
    vaxtrace_domain::ParseError::new(
        "personal_id",
        "unknown_citizen",
        "Số định danh không có trong Cơ sở dữ liệu quốc gia về dân cư",
        "The personal ID is not in the population registry",
    )
}

#[derive(Debug, Serialize)]
pub struct TestReceipt {
    pub id: i64,
    /// False when the lab had sent this sample before.
    pub created: bool,
}

/// Stores a parsed result for a citizen in the registry; the same lab sample again is a no-op.
pub async fn store_test(
    state: &AppState,
    actor: &str,
    result: TestResult,
) -> Result<TestReceipt, ApiError> {
    if state.store.citizen(result.personal_id).await?.is_none() {
        return Err(unknown_citizen().into());
    }
    let (id, created) = state
        .store
        .insert_test(NewTest {
            personal_id: result.personal_id,
            kind: result.kind.code(),
            sampled_at: result.sampled_at,
            result: result.result.code(),
            lab: result.lab,
            lab_ref: result.lab_ref,
            recorded_by: actor.to_owned(),
            recorded_at: OffsetDateTime::now_utc(),
        })
        .await?;
    Ok(TestReceipt { id, created })
}

/// `POST /api/v1/tests`.
pub async fn record_test(
    state: &AppState,
    caller: &Caller,
    input: &TestInput,
) -> Result<(StatusCode, TestReceipt), ApiError> {
    caller.require(Permission::RecordTests)?;
    let result = input.parse(OffsetDateTime::now_utc())?;
    let subject = Some(result.personal_id.to_string());
    let receipt = store_test(state, &caller.user.username, result).await;
    let action = if receipt.is_ok() {
        "test.record"
    } else {
        "test.record.refused"
    };
    state
        .audit
        .access(caller, action, subject, PURPOSE, None)
        .await?;
    let receipt = receipt?;
    let status = if receipt.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, receipt))
}

#[derive(Debug, Deserialize)]
pub struct CaseRequest {
    pub test_id: i64,
    /// YYYY-MM-DD, when symptoms began.
    pub onset_on: Option<String>,
    /// RFC 3339, when the person was isolated.
    pub isolated_at: Option<String>,
}

/// A case with the citizen's name, for the health officer.
#[derive(Debug, Serialize)]
pub struct CaseView {
    #[serde(flatten)]
    pub case: StoredCase,
    pub full_name: String,
    pub place: String,
}

/// The case named in a request, with its citizen read for the caller (area-checked and audited
/// with the case ID as purpose).
pub(crate) async fn case_for(
    state: &AppState,
    caller: &Caller,
    raw_case_id: &str,
) -> Result<(StoredCase, Citizen), ApiError> {
    caller.require(Permission::TraceCases)?;
    let case_id = parse_case_id(raw_case_id)?;
    let case = state
        .store
        .case(&case_id)
        .await?
        .ok_or_else(|| ApiError::not_found("ca bệnh", "Case"))?;
    let citizen = read_citizen(state, caller, case.personal_id, &case_id).await?;
    Ok((case, citizen))
}

fn case_view(case: StoredCase, citizen: &Citizen) -> CaseView {
    CaseView {
        place: crate::services::place_name(&case.commune_code),
        full_name: citizen.full_name.as_str().to_owned(),
        case,
    }
}

/// `POST /api/v1/cases`: a health officer confirms a positive result; the person becomes F0.
pub async fn confirm(
    state: &AppState,
    caller: &Caller,
    req: &CaseRequest,
) -> Result<CaseView, ApiError> {
    caller.require(Permission::TraceCases)?;
    let test: StoredTest = state
        .store
        .test_result(req.test_id)
        .await?
        .ok_or_else(|| ApiError::not_found("kết quả xét nghiệm", "Test result"))?;
    if test.result != TestOutcome::Positive.code() {
        return Err(ApiError::invalid_field(
            "test_id",
            "not_positive",
            "Chỉ xác nhận ca bệnh từ kết quả dương tính",
            "Only a positive result makes a case",
        ));
    }
    let citizen = read_citizen(state, caller, test.personal_id, "case_confirmation").await?;
    let now = OffsetDateTime::now_utc();
    let onset_on = req
        .onset_on
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .map(|s| parse_day("onset_on", s))
        .transpose()?;
    if onset_on.is_some_and(|d| d > vietnam_day(now)) {
        return Err(ApiError::invalid_field(
            "onset_on",
            "future_date",
            "Ngày khởi phát ở tương lai",
            "The onset date is in the future",
        ));
    }
    let isolated_at = parse_time("isolated_at", req.isolated_at.as_deref())?;
    if isolated_at.is_some_and(|t| t > now || t < test.sampled_at - time::Duration::days(14)) {
        return Err(ApiError::invalid_field(
            "isolated_at",
            "invalid_time",
            "Thời điểm cách ly phải trong 14 ngày trước khi lấy mẫu đến nay",
            "The isolation time must be between 14 days before the sample and now",
        ));
    }
    let case = state
        .store
        .open_case(NewCase {
            personal_id: test.personal_id,
            test_id: test.id,
            sampled_at: test.sampled_at,
            onset_on,
            isolated_at,
            confirmed_by: caller.user.username.clone(),
            confirmed_at: now,
            area: residence_area(&citizen),
        })
        .await
        .map_err(|e| match e {
            vaxtrace_store::StoreError::Conflict(_) => ApiError::new(
                StatusCode::CONFLICT,
                "open_case_exists",
                "Người này đang là ca bệnh chưa khỏi",
                "This person already has an open case",
            ),
            other => other.into(),
        })?;
    state
        .audit
        .access(
            caller,
            "case.confirm",
            Some(test.personal_id.to_string()),
            &case.case_id,
            None,
        )
        .await?;
    Ok(case_view(case, &citizen))
}

/// `GET /api/v1/cases/{case_id}`.
pub async fn show(state: &AppState, caller: &Caller, case_id: &str) -> Result<CaseView, ApiError> {
    let (case, citizen) = case_for(state, caller, case_id).await?;
    Ok(case_view(case, &citizen))
}

#[derive(Debug, Deserialize)]
pub struct RecoveryRequest {
    /// YYYY-MM-DD.
    pub recovered_on: String,
}

/// `POST /api/v1/cases/{case_id}/recover`: "F0 khỏi bệnh" closes the case.
pub async fn recover(
    state: &AppState,
    caller: &Caller,
    case_id: &str,
    req: &RecoveryRequest,
) -> Result<CaseView, ApiError> {
    let (case, citizen) = case_for(state, caller, case_id).await?;
    let on = parse_day("recovered_on", &req.recovered_on)?;
    let today = vietnam_day(OffsetDateTime::now_utc());
    if on > today || on < vietnam_day(case.sampled_at) {
        return Err(ApiError::invalid_field(
            "recovered_on",
            "invalid_date",
            "Ngày khỏi bệnh phải từ ngày lấy mẫu đến hôm nay",
            "The recovery date must be between the sample date and today",
        ));
    }
    if !state.store.close_case(&case.case_id, on).await? {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "case_closed",
            "Ca bệnh đã được xác nhận khỏi",
            "The case is closed already",
        ));
    }
    state
        .audit
        .access(
            caller,
            "case.recover",
            Some(case.personal_id.to_string()),
            &case.case_id,
            None,
        )
        .await?;
    let case = state.store.case(&case.case_id).await?.unwrap_or(case);
    Ok(case_view(case, &citizen))
}

/// What a status lookup or a scan shows of a person's health: F0 and quarantine.
#[derive(Debug, Default, Serialize)]
pub struct HealthFlags {
    pub f0: bool,
    /// Only for officers who may read the registry record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case_id: Option<String>,
    pub quarantined: bool,
    /// `home` or `facility`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quarantine_kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quarantine_ends_on: Option<String>,
}

/// The person's flags today; `full` (officers who may read the registry record) adds the case ID
/// and the order's kind and end, which a checkpoint or venue does not need.
pub async fn health_flags(
    state: &AppState,
    id: PersonalId,
    full: bool,
) -> Result<HealthFlags, ApiError> {
    let case = state.reader().open_case_of(id).await?;
    let today = vietnam_day(OffsetDateTime::now_utc());
    let quarantine = state.reader().active_quarantine(id, today).await?;
    Ok(HealthFlags {
        f0: case.is_some(),
        case_id: case.filter(|_| full).map(|c| c.case_id),
        quarantined: quarantine.is_some(),
        quarantine_kind: quarantine.as_ref().filter(|_| full).map(|q| q.kind.clone()),
        quarantine_ends_on: quarantine.filter(|_| full).map(|q| q.ends_on),
    })
}
