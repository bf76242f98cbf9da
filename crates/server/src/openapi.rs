//! The `OpenAPI` 3.1 document, generated from the route table so it cannot drift from the router.

use serde_json::{Map, Value, json};

use crate::routes::{Access, ROUTES};

fn permission_name(p: vaxtrace_domain::Permission) -> String {
    serde_json::to_value(p)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn error_schema() -> Value {
    json!({
        "type": "object",
        "required": ["code", "message_vi", "message_en"],
        "properties": {
            "code": {"type": "string"},
            "message_vi": {"type": "string"},
            "message_en": {"type": "string"},
            "field": {"type": "string"}
        }
    })
}

/// The citizen app's bodies (a second `json!`: one would exceed the macro recursion limit).
fn citizen_app_schemas() -> Value {
    let text = json!({"type": "string", "maxLength": 1024});
    json!({
        "SignupRequest": {"type": "object", "required": ["personal_id", "full_name", "birth_date", "phone"],
            "properties": {"personal_id": {"type": "string", "pattern": "^[0-9]{12}$"}, "full_name": text,
                "birth_date": {"type": "string", "description": "YYYY-MM-DD, YYYY-MM or YYYY"},
                "phone": {"type": "string", "description": "10 digits starting with 0, or +84"}}},
        "CitizenLoginRequest": {"type": "object", "required": ["personal_id", "phone"],
            "properties": {"personal_id": {"type": "string", "pattern": "^[0-9]{12}$"}, "phone": text}},
        "CodeRequest": {"type": "object", "required": ["challenge_id", "code"],
            "properties": {"challenge_id": text, "code": {"type": "string", "pattern": "^[0-9]{6}$"}}},
        "RebindRequest": {"type": "object", "required": ["phone", "reason"],
            "properties": {"phone": text, "reason": {"type": "string", "maxLength": 300}}},
        "AddPersonRequest": {"type": "object", "required": ["personal_id", "full_name", "birth_date", "relation"],
            "properties": {"personal_id": {"type": "string", "pattern": "^[0-9]{12}$"}, "full_name": text,
                "birth_date": text,
                "relation": {"type": "string", "enum": ["child", "parent", "spouse", "grandparent", "sibling", "other"]}}},
        "MyCorrectionRequest": {"type": "object", "required": ["vaccination_id", "message"],
            "properties": {"person": text, "vaccination_id": {"type": "integer"},
                "message": {"type": "string", "maxLength": 1000}}}
    })
}

fn schemas() -> Value {
    let text = json!({"type": "string", "maxLength": 1024});
    let mut all = json!({
        "Error": error_schema(),
        "LoginRequest": {"type": "object", "required": ["username", "password"],
            "properties": {"username": text, "password": text}},
        "VerifyRequest": {"type": "object", "required": ["personal_id", "full_name", "birth_date"],
            "properties": {
                "personal_id": {"type": "string", "pattern": "^[0-9]{12}$"},
                "full_name": text,
                "birth_date": {"type": "string", "description": "YYYY-MM-DD, YYYY-MM or YYYY"}}},
        "QrLookupRequest": {"type": "object", "required": ["qr"], "properties": {"qr": text}},
        "ShotInput": {"type": "object",
            "required": ["source", "source_record_id", "full_name", "vaccine_code", "dose_number", "administered_at", "site_code"],
            "properties": {
                "source": text, "source_record_id": text,
                "personal_id": {"type": "string", "description": "12 digits, if known"},
                "full_name": text,
                "birth_date": {"type": "string", "description": "YYYY-MM-DD, YYYY-MM, YYYY or dd/mm/yyyy"},
                "sex": {"type": "string", "enum": ["M", "F"]},
                "phone": text, "commune_code": text,
                "vaccine_code": {"type": "string", "description": "EU DCC product code, e.g. EU/1/21/1529"},
                "dose_number": {"type": "string", "pattern": "^[1-5]$"},
                "administered_at": {"type": "string", "description": "RFC 3339, or YYYY-MM-DD HH:MM in Vietnam time"},
                "site_code": text, "lot": text}},
        "CorrectionRequestInput": {"type": "object", "required": ["message"],
            "properties": {"message": {"type": "string", "maxLength": 1000}}},
        "ReviewRequest": {"type": "object", "required": ["action", "reason", "version"],
            "properties": {
                "action": {"type": "string", "enum": ["link", "reject", "duplicate", "correct"]},
                "personal_id": text, "duplicate_of": {"type": "integer"},
                "correction": {"type": "object"}, "reason": text, "version": {"type": "integer"}}},
        "BulkRequest": {"type": "object", "required": ["action", "items", "reason"],
            "properties": {
                "action": {"type": "string", "enum": ["confirm_best", "reject"]},
                "items": {"type": "array", "maxItems": 200, "items": {"type": "object",
                    "properties": {"id": {"type": "integer"}, "version": {"type": "integer"}}}},
                "reason": text}},
        "SignRequest": {"type": "object", "required": ["items"],
            "properties": {"items": {"type": "array", "maxItems": 200, "items": {"type": "object",
                "properties": {"id": {"type": "integer"}, "version": {"type": "integer"}}}}}},
        "RevokeRequest": {"type": "object", "required": ["reason"],
            "properties": {"reason": {"type": "string", "minLength": 1, "maxLength": 200}}},
        "DeclarationInput": {"type": "object",
            "required": ["personal_id", "full_name", "birth_date", "sex", "origin_commune_code", "origin_address", "destination_commune_code", "destination_address", "travel_date", "transport"],
            "properties": {
                "personal_id": {"type": "string", "pattern": "^[0-9]{12}$"}, "full_name": text,
                "birth_date": {"type": "string"}, "sex": {"type": "string", "enum": ["M", "F"]},
                "phone": text, "permanent_commune_code": text,
                "symptoms": {"type": "array", "items": {"type": "string", "enum": ["fever", "cough", "shortness_of_breath", "loss_of_taste_or_smell", "sore_throat", "fatigue", "diarrhoea"]}},
                "contact_with_case": {"type": "boolean"}, "contact_with_suspected": {"type": "boolean"},
                "visited_outbreak_area": {"type": "boolean"},
                "origin_commune_code": text, "origin_address": text,
                "destination_commune_code": text, "destination_address": text,
                "travel_date": {"type": "string", "description": "YYYY-MM-DD, within 14 days back and 30 ahead"},
                "transport": {"type": "string", "enum": ["car", "motorbike", "bus", "train", "plane", "ship", "other"]},
                "vehicle": text, "purpose": text}},
        "ScanRequest": {"type": "object", "required": ["checkpoint"],
            "properties": {"checkpoint": text, "pass": text, "chip_qr": text}},
        "CheckpointRequest": {"type": "object", "required": ["code", "name", "commune_code"],
            "properties": {"code": text, "name": text, "commune_code": text,
                "latitude": {"type": "number"}, "longitude": {"type": "number"}}},
        "AckRequest": {"type": "object", "required": ["ids"],
            "properties": {"ids": {"type": "array", "maxItems": 200, "items": {"type": "integer"}}}},
        "OutbreakRequest": {"type": "object", "required": ["unit_code", "starts_on", "ends_on"],
            "properties": {"unit_code": text, "starts_on": {"type": "string"}, "ends_on": {"type": "string"}}},
        "VerifyDccRequest": {"type": "object", "required": ["qr"],
            "properties": {"qr": {"type": "string", "maxLength": 8192, "description": "HC1:…"},
                "at": {"type": "string", "description": "RFC 3339; default now"}}},
    });
    if let (Some(all), Value::Object(more)) = (all.as_object_mut(), citizen_app_schemas()) {
        all.extend(more);
    }
    all
}

/// Request bodies of venues, check-ins, tests, cases, quarantine and break-glass review.
fn tracing_schemas() -> Value {
    let text = json!({"type": "string", "maxLength": 1024});
    let id = json!({"type": "string", "pattern": "^[0-9]{12}$"});
    let day = json!({"type": "string", "description": "YYYY-MM-DD"});
    let instant = json!({"type": "string", "description": "RFC 3339"});
    json!({
        "VenueInput": {"type": "object", "required": ["name", "kind", "commune_code", "address"],
            "properties": {"name": text, "commune_code": text, "address": text,
                "kind": {"type": "string", "enum": vaxtrace_trace::VenueKind::ALL.iter().map(|k| k.code()).collect::<Vec<_>>()},
                "latitude": {"type": "number"}, "longitude": {"type": "number"},
                "stay_minutes": {"type": "integer", "minimum": 5, "maximum": 1440}}},
        "ActiveRequest": {"type": "object", "required": ["active"], "properties": {"active": {"type": "boolean"}}},
        "CheckinRequest": {"type": "object", "description": "venue_code or venue_id; chip_qr, pass, or personal_id with birth_date",
            "properties": {"venue_code": text, "venue_id": {"type": "integer"}, "chip_qr": text, "pass": text,
                "personal_id": id, "birth_date": text, "at": instant}},
        "BatchRequest": {"type": "object", "required": ["venue_id", "items"],
            "properties": {"venue_id": {"type": "integer"},
                "items": {"type": "array", "minItems": 1, "maxItems": crate::checkins::MAX_BATCH, "items": {"type": "object",
                    "required": ["personal_id", "checked_in_at"],
                    "properties": {"personal_id": id, "checked_in_at": instant, "checked_out_at": instant}}}}},
        "TestInput": {"type": "object", "required": ["personal_id", "kind", "sampled_at", "result", "lab", "lab_ref"],
            "properties": {"personal_id": id, "kind": {"type": "string", "enum": ["pcr", "rapid_antigen"]},
                "sampled_at": instant, "result": {"type": "string", "enum": ["positive", "negative", "invalid"]},
                "lab": text, "lab_ref": text}},
        "CaseRequest": {"type": "object", "required": ["test_id"],
            "properties": {"test_id": {"type": "integer"}, "onset_on": day, "isolated_at": instant}},
        "RecoveryRequest": {"type": "object", "required": ["recovered_on"], "properties": {"recovered_on": day}},
        "TraceQuery": {"type": "object",
            "properties": {"days_before": {"type": "integer", "minimum": 0, "maximum": 14},
                "min_overlap_minutes": {"type": "integer", "minimum": 1, "maximum": 240},
                "margin_minutes": {"type": "integer", "minimum": 0, "maximum": 240},
                "depth": {"type": "integer", "enum": [1, 2]}}},
        "QuarantineInput": {"type": "object", "required": ["personal_id", "kind", "starts_on", "ends_on"],
            "properties": {"personal_id": id, "kind": {"type": "string", "enum": ["home", "facility"]},
                "starts_on": day, "ends_on": day, "place": text, "case_id": text}},
        "ReleaseRequest": {"type": "object", "properties": {"released_on": day}},
        "BreakGlassReview": {"type": "object", "required": ["verdict"],
            "properties": {"verdict": {"type": "string", "enum": ["justified", "unjustified"]}}},
    })
}

fn status_text(code: u16) -> &'static str {
    match code {
        200 => "OK",
        201 => "Created",
        204 => "No content",
        400 => "Malformed request",
        401 => "Not logged in, or the session expired",
        403 => "Role not allowed, or citizen outside the caller's jurisdiction",
        404 => "Not found",
        409 => "Conflict: replayed with different content, stale version, or no signing key",
        413 => "Request body too large",
        503 => "Signing is not configured on this server",
        415 => "Content-Type is not application/json",
        422 => "A field is invalid (the body names it)",
        429 => "Too many attempts: wait and try again",
        _ => "Other",
    }
}

/// The route's own statuses, plus those every route of its shape can answer: 400 for a malformed
/// path parameter, query parameter or JSON body; 413, 415 and 422 for a body too large, not
/// JSON, or mistyped.
fn documented_statuses(route: &crate::routes::Route) -> Vec<u16> {
    let mut codes = route.statuses.to_vec();
    if route.body.is_some() {
        codes.extend([400, 413, 415, 422]);
    }
    if route.path.contains('{') || route.query.is_some() {
        codes.push(400);
    }
    codes.sort_unstable();
    codes.dedup();
    codes
}

/// One parameter per `{name}` of a route template, typed as its handler extracts it.
fn path_parameters(path: &str) -> Vec<Value> {
    path.split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| {
            let schema = match name {
                "personal_id" => json!({"type": "string", "pattern": "^[0-9]{12}$"}),
                "id" => json!({"type": "integer", "format": "int64", "minimum": 1}),
                _ => json!({"type": "string", "minLength": 1}),
            };
            json!({"name": name, "in": "path", "required": true, "schema": schema})
        })
        .collect()
}

/// The schema of a query parameter: one name means one type in every query of the API.
fn query_schema(name: &str) -> Value {
    match name {
        "after" | "before" => json!({"type": "integer", "format": "int64"}),
        "limit" | "days" | "days_before" | "min_overlap_minutes" | "margin_minutes" => {
            json!({"type": "integer", "minimum": 0, "maximum": u32::MAX})
        }
        "depth" => json!({"type": "integer", "minimum": 0, "maximum": u8::MAX}),
        "risk" | "outbreak" | "unread" => json!({"type": "boolean"}),
        _ => json!({"type": "string"}),
    }
}

/// The route's query parameters, all optional, as its handler's query type declares them.
fn query_parameters(route: &crate::routes::Route) -> Vec<Value> {
    route.query.map_or_else(Vec::new, |shape| {
        (shape.names)()
            .iter()
            .map(|name| json!({"name": name, "in": "query", "required": false, "schema": query_schema(name)}))
            .collect()
    })
}

pub fn document() -> Value {
    let mut paths = Map::new();
    for route in ROUTES {
        let mut responses = Map::new();
        for code in documented_statuses(route) {
            let mut response = json!({"description": status_text(code)});
            if code >= 400 {
                response["content"] =
                    json!({"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}});
            }
            responses.insert(code.to_string(), response);
        }
        let mut operation = json!({
            "summary": route.summary,
            "tags": [route.tag],
            "operationId": format!("{} {}", route.method, route.path),
            "responses": responses,
            "x-access": match route.access {
                Access::Public => "public".to_owned(),
                Access::Authenticated => "authenticated".to_owned(),
                Access::Permission(p) => permission_name(p),
                Access::AnyOf(ps) => ps.iter().map(|p| permission_name(*p)).collect::<Vec<_>>().join(" | "),
            },
        });
        if route.access != Access::Public {
            operation["security"] = json!([{"bearer": []}, {"cookie": []}]);
        }
        if let Some(body) = route.body {
            operation["requestBody"] = json!({"required": true,
                "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{body}")}}}});
        }
        let mut parameters = path_parameters(route.path);
        parameters.extend(query_parameters(route));
        if !parameters.is_empty() {
            operation["parameters"] = Value::Array(parameters);
        }
        let entry = paths
            .entry(route.path.to_owned())
            .or_insert_with(|| json!({}));
        entry[route.method.as_str().to_lowercase()] = operation;
    }
    let mut all_schemas = schemas();
    if let (Some(all), Value::Object(more)) = (all_schemas.as_object_mut(), tracing_schemas()) {
        all.extend(more);
    }
    if let Some(all) = all_schemas.as_object_mut() {
        all.insert("FhirBundle".into(), crate::fhir::bundle_schema());
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "vaxtrace API", "version": env!("CARGO_PKG_VERSION"),
            "description": "Population registry, vaccination records and movement control. Errors carry a machine-readable code and messages in Vietnamese and English."},
        "paths": paths,
        "components": {
            "schemas": all_schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "cookie": {"type": "apiKey", "in": "cookie", "name": crate::middleware::SESSION_COOKIE}
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routes::ROUTES;

    /// Each documented query parameter exists in the handler's query type and has the type the
    /// handler parses: a declared integer refuses a word, a declared boolean refuses "maybe".
    #[test]
    fn query_parameters_are_typed_as_the_handlers_parse_them() {
        let mut checked = 0;
        for route in ROUTES {
            let Some(shape) = route.query else { continue };
            let names = (shape.names)();
            assert!(
                !names.is_empty(),
                "{}: no fields read off its query type",
                route.path
            );
            for name in names {
                let at = format!("{} ?{name}", route.path);
                let schema = query_schema(name);
                match schema["type"].as_str() {
                    Some("integer") => {
                        assert!((shape.accepts)(&format!("{name}=7")), "{at}");
                        assert!(!(shape.accepts)(&format!("{name}=seven")), "{at}");
                        let unsigned = schema["minimum"] == 0;
                        assert_eq!((shape.accepts)(&format!("{name}=-1")), !unsigned, "{at}");
                    }
                    Some("boolean") => {
                        assert!((shape.accepts)(&format!("{name}=true")), "{at}");
                        assert!(!(shape.accepts)(&format!("{name}=maybe")), "{at}");
                    }
                    _ => assert!((shape.accepts)(&format!("{name}=x")), "{at}"),
                }
                checked += 1;
            }
        }
        assert!(checked >= 40, "{checked} parameters");
    }
}
