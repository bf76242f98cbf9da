"""EU DCC issued by `vaxtrace cert issue`, verified with independent libraries (cose, base45,
cbor2, cryptography) and nothing of vaxtrace but the exported DSC certificate.

Builds its own database (not the shared `server` fixture, whose browser tests expect unsigned
records): two doses for Nguyễn Văn An, the record key chain, the CSCA and DSC; the commune signs
through the API; then the CLI issues the certificate.
"""
import hashlib
import json
import os
import subprocess
import time
import urllib.request
import zlib

import base45
import cbor2
import pytest
from cose.keys import EC2Key
from cose.messages import CoseMessage
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from conftest import (AN_ID, BIN, HEADER, KEY_PASSPHRASE, PASSWORD, ROWS, SHOT_HEADER, SHOTS,
                      free_port)

EKU_VACCINATION = "1.3.6.1.4.1.1847.2021.1.2"


def run(*args, env=None, **kw):
    return subprocess.run([BIN, *args], env=env, check=True, capture_output=True, **kw)


def api(base, path, body=None, token=None):
    req = urllib.request.Request(base + path, data=None if body is None else json.dumps(body).encode(),
                                 method="GET" if body is None else "POST")
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=10) as res:
        return json.loads(res.read())


@pytest.fixture(scope="module")
def issued(tmp_path_factory):
    work = tmp_path_factory.mktemp("dcc")
    url = f"sqlite:{work / 'dcc.db'}"
    env = {**os.environ, "VAXTRACE_KEY_PASSPHRASE": KEY_PASSPHRASE}
    (work / "people.csv").write_text(HEADER + ROWS, encoding="utf-8")
    (work / "shots.csv").write_text(SHOT_HEADER + SHOTS, encoding="utf-8")
    run("import", "citizens", str(work / "people.csv"), "--database-url", url, "--no-progress")
    run("import", "vaccinations", str(work / "shots.csv"), "--database-url", url, "--no-progress")
    for args in (["root"], ["province", "91"], ["commune", "30730"], ["csca"], ["dsc"]):
        run("keys", *args, "--database-url", url, env=env)
    run("user", "add", "--database-url", url, "--username", "ubnd.xa30730", "--role", "commune_signer",
        "--jurisdiction", "30730", input=(PASSWORD + "\n").encode())

    # No signed dose yet: a clear refusal, in both languages.
    refused = subprocess.run([BIN, "cert", "issue", AN_ID, "--database-url", url], env=env,
                             capture_output=True, text=True)
    assert refused.returncode != 0
    assert "chưa có mũi tiêm" in refused.stderr and "no signed vaccination record" in refused.stderr

    port = free_port()
    proc = subprocess.Popen([BIN, "serve", "--database-url", url, "--addr", f"127.0.0.1:{port}"], env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.05)
        token = api(base, "/api/v1/auth/login", {"username": "ubnd.xa30730", "password": PASSWORD})["token"]
        pending = api(base, "/api/v1/signing/pending", token=token)
        items = [{"id": r["id"], "version": r["version"]} for r in pending]
        signed = api(base, "/api/v1/signing/sign", {"items": items}, token=token)
        assert len(signed["signed"]) == 2, signed
    finally:
        proc.terminate()
        proc.wait(timeout=10)

    svg, png = work / "an.svg", work / "an.png"
    out = run("cert", "issue", AN_ID, "--database-url", url, "--out-svg", str(svg), "--out-png", str(png),
              env=env, text=True)
    run("keys", "export-dsc", "--database-url", url, "--out", str(work / "dsc.der"))
    return {"hc1": out.stdout.strip(), "dsc": (work / "dsc.der").read_bytes(), "svg": svg, "png": png}


def test_signature_verifies_with_the_dsc_alone(issued):
    hc1 = issued["hc1"]
    assert hc1.startswith("HC1:")
    cose_bytes = zlib.decompress(base45.b45decode(hc1[4:]))
    msg = CoseMessage.decode(cose_bytes)

    dsc = x509.load_der_x509_certificate(issued["dsc"])
    numbers = dsc.public_key().public_numbers()
    assert isinstance(numbers.curve, ec.SECP256R1)
    msg.key = EC2Key(crv="P_256", x=numbers.x.to_bytes(32, "big"), y=numbers.y.to_bytes(32, "big"))
    assert msg.verify_signature()

    # Protected header: ES256 and the kid = first 8 bytes of SHA-256(DSC DER).
    protected = cbor2.loads(msg.phdr_encoded)
    assert protected[1] == -7
    assert protected[4] == hashlib.sha256(issued["dsc"]).digest()[:8]

    # A flipped payload byte breaks the signature.
    msg.payload = msg.payload[:-1] + bytes([msg.payload[-1] ^ 1])
    assert not msg.verify_signature()


def test_claims_and_payload(issued):
    raw = zlib.decompress(base45.b45decode(issued["hc1"][4:]))
    tagged = cbor2.loads(raw)
    assert tagged.tag == 18
    claims = cbor2.loads(tagged.value[2])
    assert claims[1] == "VN"
    assert claims[6] <= time.time() <= claims[4]
    dcc = claims[-260][1]
    assert dcc["ver"] == "1.3.0"
    assert dcc["nam"] == {"fn": "Nguyễn", "fnt": "NGUYEN", "gn": "Văn An", "gnt": "VAN<AN"}
    assert dcc["dob"] == "1987-03-09"
    [v] = dcc["v"]
    assert (v["tg"], v["mp"], v["ma"], v["vp"]) == ("840539006", "EU/1/21/1529", "ORG-100001699",
                                                     "29061000087103")
    assert (v["dn"], v["sd"], v["dt"], v["co"]) == (2, 2, "2021-09-01", "VN")
    assert v["ci"].startswith("URN:UVCI:01:VN:")


def test_dsc_profile_and_qr_files(issued):
    dsc = x509.load_der_x509_certificate(issued["dsc"])
    eku = dsc.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert EKU_VACCINATION in {oid.dotted_string for oid in eku}
    assert not dsc.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert issued["svg"].read_text().lstrip().startswith("<?xml") or "<svg" in issued["svg"].read_text()
    assert issued["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
