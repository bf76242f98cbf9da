#!/usr/bin/env python3
"""Seeds the fuzz corpora from the vendored EU DCC conformance cases and from lists the vaxtrace
binary signs. Run once from the repo root: python3 fuzz/seed.py target/debug/vaxtrace"""
import hashlib
import json
import os
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


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "target/debug/vaxtrace")
