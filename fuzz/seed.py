#!/usr/bin/env python3
"""Seeds the fuzz corpora from the vendored EU DCC conformance cases and from lists the vaxtrace
binary signs. Run once from the repo root: python3 fuzz/seed.py target/debug/vaxtrace"""
import hashlib
import json
import os
import socket
import time
import urllib.request
import pathlib
import subprocess
import sys
import tempfile
import zlib

import base45

ROOT = pathlib.Path(__file__).resolve().parent.parent
CORPUS = ROOT / "fuzz" / "corpus"


def put(target, data):
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / hashlib.sha1(data).hexdigest()).write_bytes(data)


def main(binary):
    for case in sorted((ROOT / "testdata" / "dcc" / "cases").rglob("*.json")):
        prefix = json.loads(case.read_text(encoding="utf-8")).get("PREFIX")
        if not isinstance(prefix, str):
            continue
        put("hcert_text", prefix.encode())
        try:
            put("hcert_cose", zlib.decompress(base45.b45decode(prefix.removeprefix("HC1:"))))
        except Exception:  # cases that are broken on purpose seed only the text corpus
            pass
    with tempfile.TemporaryDirectory() as work:
        url = f"sqlite:{work}/seed.db"
        env = {**os.environ, "VAXTRACE_KEY_PASSPHRASE": "fuzz corpus seed passphrase"}
        for args in (["keys", "csca"], ["keys", "dsc"], ["cert", "export-trust-list", "--out", f"{work}/t.json"],
                     ["cert", "export-revocation-list", "--out", f"{work}/r.json"]):
            subprocess.run([binary, *args, "--database-url", url], env=env, check=True, capture_output=True)
        for name in ("t.json", "r.json"):
            put("signed_list", pathlib.Path(work, name).read_bytes())
    put("signed_list", json.dumps({"certificates": [{"kid": "AAAAAAAAAAA=", "country": "DE",
                                                     "certificate_type": "DSC", "raw_data": "MIIB"}]}).encode())


    seed_imports()
    seed_bodies(binary)


AN = "091087123456"
# Selector bytes of fuzz/checks/import_rows.rs, in ImportFormat::ALL order.
IMPORTS = {
    "registry": "personal_id,full_name,birth_date,sex,permanent_commune_code,permanent_address,phone,household_id\n"
                f"{AN},Nguyễn Văn An,1987-03-09,M,30730,12 Trần Phú,0912345678,HK-1\n"
                "091195000001,Trần Thị Bình,1995-11-20,F,30733,\"5 Lê Lợi, Rạch Giá\",,\n"
                "12345,X,1990-01-01,M,30730,?,,\n",
    "vaccinations": "source,source_record_id,personal_id,full_name,birth_date,sex,phone,commune_code,vaccine_code,dose_number,administered_at,site_code,lot\n"
                    f"site,1,{AN},Nguyễn Văn An,1987-03-09,M,,30730,EU/1/21/1529,1,2021-07-01 09:00,S1,L1\n"
                    "site,2,,Nguyen Van An,09/03/1987,M,0912345678,30730,EU/1/20/1528,2,2021-08-01T09:00:00+07:00,S1,\n"
                    "site,3,,Nguyễn Văn An,1987-03-09,M,,30730,XYZ,7,2099-07-01 09:00,S1,L1\n",
    "tests": "personal_id,kind,sampled_at,result,lab,lab_ref\n"
             f"{AN},pcr,2021-09-10T08:00:00+07:00,positive,CDC Kiên Giang,KG-1\n"
             f"{AN},rapid_antigen,2021-09-11T08:00:00+07:00,negative,CDC Kiên Giang,KG-2\n"
             f"{AN},elisa,2021-09-10T08:00:00+07:00,positive,CDC Kiên Giang,KG-3\n",
    "insurance": "personal_id,card_number,valid_from,valid_to\n"
                 f"{AN},DN4910123456789,2021-01-01,2021-12-31\n"
                 f"{AN},DN4910123456789,2021-12-31,2021-01-01\n",
    "ncovi": json.dumps({"app_id": "N-1", "phone": "0912345678", "personal_id": AN, "full_name": "Nguyễn Văn An",
                         "birth_date": "1987-03-09", "sex": "M", "declared_at": "2021-09-10T08:00:00+07:00",
                         "symptoms": ["fever"], "from": {"commune_code": "30730", "address": "12 Trần Phú"},
                         "to": {"commune_code": "00004", "address": "1 Đinh Tiên Hoàng"},
                         "travel_date": "2021-09-10", "transport": "car", "vehicle": "68A-123.45"},
                        ensure_ascii=False) + "\n{\"app_id\": 1}\n",
    "bluezone": "record_id,personal_id,full_name,birth_date,sex,phone,declared_at,symptoms,contact_with_case,"
                "origin_commune_code,origin_address,destination_commune_code,destination_address,travel_date,transport,vehicle,purpose\n"
                f"BZ-1,{AN},Nguyễn Văn An,1987-03-09,M,,2021-09-10T08:00:00+07:00,cough;fever,1,30730,12 Trần Phú,"
                "00004,1 Đinh Tiên Hoàng,2021-09-10,bus,51B-999.99,\n",
}


def seed_imports():
    for selector, text in enumerate(IMPORTS.values()):
        put("import_rows", bytes([selector]) + text.encode())


# Plausible values by property name, so seeds get past validation into the handlers.
VALUES = {
    "personal_id": AN, "full_name": "Nguyễn Văn An", "birth_date": "1987-03-09", "sex": "M",
    "phone": "0912345678", "username": "fuzz_admin", "password": "correct horse battery",
    "administered_at": "2021-07-01T09:00:00+07:00", "sampled_at": "2021-09-10T08:00:00+07:00",
    "vaccine_code": "EU/1/21/1529", "dose_number": "1", "source": "site-app", "source_record_id": "R-1",
    "site_code": "KG-TYT-30730", "commune_code": "30730", "unit_code": "30730", "address": "12 Trần Phú",
    "name": "Nhà thuốc Hòa Bình", "checkpoint": "CP-1", "code": "CP-1", "reason": "Nhập sai / typo",
    "message": "Sai ngày tiêm / wrong date", "lab": "CDC Kiên Giang", "lab_ref": "KG-1",
}


def example(schema, name, schemas, required_only=False):
    if "$ref" in schema:
        schema = schemas[schema["$ref"].rsplit("/", 1)[1]]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties", {})
        keep = schema.get("required", []) if required_only else props
        return {k: example(props[k], k, schemas) for k in keep if k in props}
    if kind == "array":
        item = schema.get("items", {})
        return [example(item, name, schemas)] if item else []
    if kind == "integer":
        return 1
    if kind == "number":
        return 10.0
    if kind == "boolean":
        return False
    if name in VALUES:
        return VALUES[name]
    if name.endswith("commune_code"):
        return "30730"
    if name.endswith("_address"):
        return "12 Trần Phú"
    if name.endswith(("_date", "_on")):
        return time.strftime("%Y-%m-%d")
    return "x"


def openapi(binary):
    with tempfile.TemporaryDirectory() as work, socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        addr = f"127.0.0.1:{probe.getsockname()[1]}"
        probe.close()
        server = subprocess.Popen([binary, "serve", "--database-url", f"sqlite:{work}/o.db", "--addr", addr],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(100):
                try:
                    with urllib.request.urlopen(f"http://{addr}/api/openapi.json") as answer:
                        return json.load(answer)
                except OSError:
                    time.sleep(0.1)
            raise SystemExit("the server did not answer")
        finally:
            server.kill()
            server.wait()


def seed_bodies(binary):
    """One input per route, in the order of fuzz/checks/json_bodies.rs: (path, method) sorted."""
    doc = openapi(binary)
    schemas = doc["components"]["schemas"]
    routes = [(path, method.upper(), op) for path, ops in sorted(doc["paths"].items())
              for method, op in sorted(ops.items(), key=lambda m: m[0].upper())
              if method != "get" and not path.endswith("/logout")]
    for selector, (_, _, op) in enumerate(routes):
        ref = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
        bodies = [b"{}"]
        if ref:
            bodies += [json.dumps(example(ref, "", schemas, only), ensure_ascii=False).encode() for only in (False, True)]
        for body in bodies:
            put("json_bodies", bytes([selector]) + body)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "target/debug/vaxtrace")
