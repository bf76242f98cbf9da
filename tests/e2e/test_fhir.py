"""FHIR R4 exchange over HTTP, checked against the official R4 (4.0.1) schema by `fhir.resources`:
the bundle a commune officer downloads validates as a Bundle, and each resource in it as its own
type; a broken bundle posted to the importer is refused with a valid OperationOutcome."""
import importlib
import json
import pkgutil
import sys
import urllib.error
import urllib.request

import pytest

from conftest import AN_ID, PASSWORD, api


def _r4_models():
    """The R4 model classes of fhir.resources 6.2 (the last release on FHIR 4.0.1; later ones are
    R4B or R5). It is written against the pydantic 1 API, which pydantic 2 still ships as
    `pydantic.v1`: with pydantic 2 installed, that module stands in for `pydantic` while every
    model module is imported, and everything is put back afterwards."""
    import pydantic
    saved = None
    if not pydantic.VERSION.startswith("1."):
        import pydantic.v1 as v1
        saved = {k: m for k, m in sys.modules.items() if k == "pydantic" or k.startswith("pydantic.")}
        sys.modules["pydantic"] = v1
        for info in pkgutil.iter_modules(v1.__path__):
            # Private modules and the mypy plugin pull in optional tools the models do not use.
            if not info.name.startswith("_") and info.name != "mypy":
                sys.modules["pydantic." + info.name] = importlib.import_module("pydantic.v1." + info.name)
    try:
        import fhir.resources
        # All of them now: a Bundle imports its entries' model modules only when it meets them.
        for info in pkgutil.iter_modules(fhir.resources.__path__):
            if not info.ispkg:
                importlib.import_module("fhir.resources." + info.name)
        from fhir.resources.bundle import Bundle
        from fhir.resources.immunization import Immunization
        from fhir.resources.operationoutcome import OperationOutcome
        from fhir.resources.patient import Patient
    finally:
        if saved is not None:
            for k in [k for k in sys.modules if k == "pydantic" or k.startswith("pydantic.")]:
                del sys.modules[k]
            sys.modules.update(saved)
    assert fhir.resources.__fhir_version__ == "4.0.1", fhir.resources.__fhir_version__
    return {"Bundle": Bundle, "Patient": Patient, "Immunization": Immunization,
            "OperationOutcome": OperationOutcome}


@pytest.fixture(scope="module")
def r4():
    return _r4_models()


def token(base, username):
    return api(base, "/api/v1/auth/login", {"username": username, "password": PASSWORD})["token"]


def get_bundle(base, username):
    req = urllib.request.Request(f"{base}/api/v1/citizens/{AN_ID}/fhir")
    req.add_header("Authorization", f"Bearer {token(base, username)}")
    with urllib.request.urlopen(req, timeout=10) as res:
        assert res.headers["Content-Type"] == "application/fhir+json"
        return json.loads(res.read())


def test_exported_bundle_is_valid_fhir_r4(server, r4):
    bundle = get_bundle(server, "congan.xa30730")
    parsed = r4["Bundle"].parse_obj(bundle)
    assert parsed.type == "collection"
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert kinds == ["Patient", "Immunization", "Immunization"], kinds
    for entry in bundle["entry"]:
        resource = r4[entry["resource"]["resourceType"]].parse_obj(entry["resource"])
        assert resource.id and entry["fullUrl"] == f"urn:uuid:{resource.id}"
    patient = r4["Patient"].parse_obj(bundle["entry"][0]["resource"])
    assert patient.identifier[0].value == AN_ID
    assert patient.name[0].family == "Nguyễn" and patient.name[0].given == ["Văn", "An"]
    assert str(patient.birthDate) == "1987-03-09"
    doses = [r4["Immunization"].parse_obj(e["resource"]) for e in bundle["entry"][1:]]
    assert [d.protocolApplied[0].doseNumberPositiveInt for d in doses] == [1, 2]
    assert {d.vaccineCode.coding[0].code for d in doses} == {"EU/1/21/1529"}
    assert all(d.patient.reference == bundle["entry"][0]["fullUrl"] for d in doses)
    assert [d.lotNumber for d in doses] == ["AZ0701", "AZ0901"]

    # The validator is not a rubber stamp: an Immunization without its status is refused.
    broken = dict(bundle["entry"][1]["resource"])
    del broken["status"]
    with pytest.raises(Exception, match="status"):
        r4["Immunization"].parse_obj(broken)


def test_broken_bundle_is_refused_with_an_operation_outcome(server, r4):
    bundle = get_bundle(server, "congan.xa30730")
    for entry in bundle["entry"][1:]:
        del entry["resource"]["vaccineCode"]
    bundle["entry"][2]["resource"]["patient"]["reference"] = "urn:uuid:nobody"
    req = urllib.request.Request(f"{server}/api/v1/fhir/import", data=json.dumps(bundle).encode(),
                                 method="POST")
    req.add_header("Content-Type", "application/fhir+json")
    req.add_header("Authorization", f"Bearer {token(server, 'yte.tinh91')}")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(req, timeout=10)
    assert refused.value.code == 422
    body = json.loads(refused.value.read())
    assert body["code"] == "invalid_fhir_bundle"
    locations = [(i["location"], i["code"]) for i in body["issues"]]
    assert locations == [
        ("Bundle.entry[1].resource.vaccineCode", "missing"),
        ("Bundle.entry[2].resource.vaccineCode", "missing"),
        ("Bundle.entry[2].resource.patient.reference", "unresolved_reference"),
    ], locations
    outcome = r4["OperationOutcome"].parse_obj(body["outcome"])
    assert [i.expression[0] for i in outcome.issue] == [loc for loc, _ in locations]
    assert outcome.issue[0].details.text == "Thiếu trường bắt buộc vaccineCode"
