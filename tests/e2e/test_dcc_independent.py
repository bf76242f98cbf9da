"""EU DCC issued by `vaxtrace cert issue`, verified with independent libraries (cose, base45,
cbor2, cryptography) and nothing of vaxtrace but the exported DSC certificate.

Builds its own database (not the shared `server` fixture, whose browser tests expect unsigned
records): two doses for Nguyễn Văn An, the record key chain, the CSCA and DSC; the commune signs
through the API; then the CLI issues the certificate.
"""
import hashlib
import subprocess
import time
import zlib

import base45
import cbor2
import pytest
from cose.keys import EC2Key
from cose.messages import CoseMessage
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from conftest import AN_ID, BIN, dcc_database, key_env, run, serving, sign_pending

EKU_VACCINATION = "1.3.6.1.4.1.1847.2021.1.2"


@pytest.fixture(scope="module")
def issued(tmp_path_factory):
    work = tmp_path_factory.mktemp("dcc")
    url = dcc_database(work, [("ubnd.xa30730", "commune_signer", "30730")])
    env = key_env()

    # No signed dose yet: a clear refusal, in both languages.
    refused = subprocess.run([BIN, "cert", "issue", AN_ID, "--database-url", url], env=env,
                             capture_output=True, text=True)
    assert refused.returncode != 0
    assert "chưa có mũi tiêm" in refused.stderr and "no signed vaccination record" in refused.stderr

    with serving(url) as base:
        signed = sign_pending(base, "ubnd.xa30730")
        assert len(signed["signed"]) == 2, signed

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
