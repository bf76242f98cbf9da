"""Fixtures for the browser tests: a real `vaxtrace serve` on a fresh SQLite file, and headless Chromium.

The database holds two citizens, three vaccination records (two exact doses for Nguyễn Văn An that
link on import, one noisy report for Trần Thị Bình that waits in her commune's review queue), a
signing-key chain (national root → province 91 → communes 30730 and 30733) and one user per role the
tests play. Shared page helpers (login, waits) live here too.
"""
import contextlib
import json
import os
import pathlib
import re
import socket
import subprocess
import time
import unicodedata
import urllib.request

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

BIN = os.environ.get("VAXTRACE_BIN", "target/debug/vaxtrace")
SCREENSHOTS = pathlib.Path(os.environ.get("VAXTRACE_SCREENSHOTS", "target/e2e-screenshots"))
PASSWORD = "mat-khau-e2e-123"
HEADER = ("personal_id,full_name,birth_date,sex,permanent_commune_code,permanent_address,"
          "temporary_commune_code,temporary_address,phone,legacy_id,household_id\n")
ROWS = ("091087123456,Nguyễn Văn An,1987-03-09,M,30730,12 Trần Phú,,,0912345678,371234567,HH1\n"
        "091195000001,Trần Thị Bình,1995-11-20,F,30733,5 Lê Lợi,,,,,HH2\n")
# Signing keys' passphrase, for `vaxtrace keys` and `vaxtrace serve` alike.
KEY_PASSPHRASE = "khoa-ky-so-e2e-2021"
AN_ID, BINH_ID = "091087123456", "091195000001"
SHOT_HEADER = ("source,source_record_id,personal_id,full_name,birth_date,sex,phone,commune_code,"
               "vaccine_code,dose_number,administered_at,site_code,lot\n")
# An's name is sent decomposed (NFD), as some site software does: the importer must store it NFC.
AN_NFD = unicodedata.normalize("NFD", "Nguyễn Văn An")
SHOTS = (f"e2e,an-1,{AN_ID},{AN_NFD},1987-03-09,M,,30730,EU/1/21/1529,1,2021-07-01T09:00:00+07:00,KG-TYT-30730,AZ0701\n"
         f"e2e,an-2,{AN_ID},{AN_NFD},1987-03-09,M,,30730,EU/1/21/1529,2,2021-09-01T09:00:00+07:00,KG-TYT-30730,AZ0901\n"
         # No ID, no accents, birth month only: enough evidence for review, not for an automatic link.
         "e2e,binh-1,,Tran Thi Binh,1995-11,F,,30733,EU/1/21/1529,1,2021-08-15T09:00:00+07:00,KG-TYT-30733,AZ0815\n")
# username, role, jurisdiction
USERS = [("congan.xa30730", "commune_police", "30730"),
         ("tramyte.xa30733", "commune_health", "30733"),
         ("ubnd.xa30730", "commune_signer", "30730"),
         ("yte.tinh91", "province_health", "91")]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    work = tmp_path_factory.mktemp("vaxtrace")
    url = f"sqlite:{work / 'e2e.db'}"
    csv = work / "people.csv"
    csv.write_text(HEADER + ROWS, encoding="utf-8")
    subprocess.run([BIN, "import", "citizens", str(csv), "--database-url", url, "--no-progress"], check=True)
    shots = work / "shots.csv"
    shots.write_text(SHOT_HEADER + SHOTS, encoding="utf-8")
    stats = work / "shots-stats.json"
    subprocess.run([BIN, "import", "vaccinations", str(shots), "--database-url", url, "--no-progress",
                    "--stats-json", str(stats)], check=True)
    summary = json.loads(stats.read_text())
    expected = {"inserted": 3, "auto": 2, "review": 1, "unmatched": 0, "rejected": 0}
    got = {k: summary[k] for k in expected}
    if got != expected:
        raise RuntimeError(f"vaccination import: expected {expected}, got {got}")
    for args in (["root"], ["province", "91"], ["commune", "30730"], ["commune", "30733"]):
        subprocess.run([BIN, "keys", *args, "--database-url", url], env=key_env(), check=True)
    for username, role, jurisdiction in USERS:
        subprocess.run([BIN, "user", "add", "--database-url", url, "--username", username,
                        "--role", role, "--jurisdiction", jurisdiction],
                       input=(PASSWORD + "\n").encode(), check=True)
    with serving(url) as base:
        yield base


def run(*args, env=None, **kw):
    """Runs the vaxtrace binary; raises on a non-zero exit."""
    return subprocess.run([BIN, *args], env=env, check=True, capture_output=True, **kw)


def api(base, path, body=None, token=None):
    """One JSON API call; raises urllib.error.HTTPError on 4xx/5xx."""
    req = urllib.request.Request(base + path, data=None if body is None else json.dumps(body).encode(),
                                 method="GET" if body is None else "POST")
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=10) as res:
        return json.loads(res.read())


def key_env():
    return {**os.environ, "VAXTRACE_KEY_PASSPHRASE": KEY_PASSPHRASE}


def dcc_database(work, users):
    """A fresh SQLite database with the two citizens, their shots, every key (record chain, CSCA,
    DSC) and `users` [(username, role, jurisdiction)]; returns its URL."""
    url = f"sqlite:{work / 'dcc.db'}"
    (work / "people.csv").write_text(HEADER + ROWS, encoding="utf-8")
    (work / "shots.csv").write_text(SHOT_HEADER + SHOTS, encoding="utf-8")
    run("import", "citizens", str(work / "people.csv"), "--database-url", url, "--no-progress")
    run("import", "vaccinations", str(work / "shots.csv"), "--database-url", url, "--no-progress")
    for args in (["root"], ["province", "91"], ["commune", "30730"], ["csca"], ["dsc"]):
        run("keys", *args, "--database-url", url, env=key_env())
    for username, role, jurisdiction in users:
        run("user", "add", "--database-url", url, "--username", username, "--role", role,
            "--jurisdiction", jurisdiction, input=(PASSWORD + "\n").encode())
    return url


def sms_outbox(url):
    """The development SMS outbox (one JSON line per text) of the server `serving(url)` starts:
    `sms-outbox.jsonl` beside the SQLite database."""
    return pathlib.Path(url.removeprefix("sqlite:")).parent / "sms-outbox.jsonl"


@contextlib.contextmanager
def serving(url):
    """`vaxtrace serve` on a free loopback port, stopped on exit; yields its base URL. One-time
    codes go to `sms_outbox(url)`."""
    port = free_port()
    log_path = sms_outbox(url).with_name(f"serve-{port}.log")
    log = open(log_path, "wb")
    proc = subprocess.Popen([BIN, "serve", "--database-url", url, "--addr", f"127.0.0.1:{port}",
                             "--sms-outbox", str(sms_outbox(url)),
                             # Every request and every failure, for the personal-data check below.
                             "--log", "debug,hyper=info,h2=info,tokio_postgres=info"], env=key_env(),
                            stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.05)
        else:
            raise RuntimeError("vaxtrace serve did not start")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()
        assert_no_personal_data(log_path)


# Names the browser tests type or load without diacritics; every other name has some.
UNACCENTED_NAMES = ("Tran Thi Binh", "Nguyen Van An")


def assert_no_personal_data(log_path):
    """The server's whole log of a browser run holds no personal data: no run of 9 to 12 digits
    (personal IDs, legacy ID numbers, phones), no name. Vietnamese names carry diacritics and the
    log is English, so any non-ASCII character is a leak too."""
    text = log_path.read_text(encoding="utf-8", errors="replace")
    leaks = [m.group(0) for m in re.finditer(r"(?<![0-9A-Za-z])\d{9,12}(?![0-9A-Za-z])", text)]
    leaks += sorted({c for c in text if ord(c) > 127})
    leaks += [n for n in UNACCENTED_NAMES if n.lower() in text.lower()]
    assert text.strip(), f"{log_path} is empty: the server logged nothing"
    assert not leaks, f"personal data in the server log {log_path}: {leaks[:10]}"


def sign_pending(base, signer):
    """Signs every record waiting for `signer`; returns the sign outcome."""
    token = api(base, "/api/v1/auth/login", {"username": signer, "password": PASSWORD})["token"]
    pending = api(base, "/api/v1/signing/pending", token=token)
    items = [{"id": r["id"], "version": r["version"]} for r in pending]
    return api(base, "/api/v1/signing/sign", {"items": items}, token=token)


def chromium_options(tmp_path, *extra):
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for arg in ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic",
                "--window-size=1000,1000", f"--user-data-dir={tmp_path / 'profile'}", *extra]:
        opts.add_argument(arg)
    return opts


@pytest.fixture()
def browser(tmp_path):
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=chromium_options(tmp_path))
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def wait(driver, seconds=15):
    return WebDriverWait(driver, seconds)


def result_text(driver, contains, element_id="result"):
    wait(driver).until(EC.text_to_be_present_in_element((By.ID, element_id), contains))
    return driver.find_element(By.ID, element_id).text


def login(driver, base, username="congan.xa30730", password=PASSWORD, next_page=None):
    """Logs in through the login page; with `next_page`, waits until that page shows who is logged in."""
    driver.get(base + "/login" + (f"?next={next_page}" if next_page else ""))
    driver.find_element(By.ID, "username").send_keys(username)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "login-submit").click()
    if next_page:
        wait(driver).until(EC.url_contains(next_page))
        wait(driver).until(EC.text_to_be_present_in_element((By.ID, "who"), username))


def screenshot(driver, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / name
    assert driver.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000
    return shot


def assert_nfc(driver):
    text = driver.find_element(By.TAG_NAME, "body").text
    assert unicodedata.is_normalized("NFC", text), [c for c in text if not unicodedata.is_normalized("NFC", c)]
