"""Fixtures for the browser tests: a real `vaxtrace serve` on a fresh SQLite file, and headless Chromium."""
import os
import pathlib
import socket
import subprocess
import time
import urllib.request

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

BIN = os.environ.get("VAXTRACE_BIN", "target/debug/vaxtrace")
SCREENSHOTS = pathlib.Path(os.environ.get("VAXTRACE_SCREENSHOTS", "target/e2e-screenshots"))
PASSWORD = "mat-khau-e2e-123"
HEADER = ("personal_id,full_name,birth_date,sex,permanent_commune_code,permanent_address,"
          "temporary_commune_code,temporary_address,phone,legacy_id,household_id\n")
ROWS = ("091087123456,Nguyễn Văn An,1987-03-09,M,30730,12 Trần Phú,,,0912345678,371234567,HH1\n"
        "091195000001,Trần Thị Bình,1995-11-20,F,30733,5 Lê Lợi,,,,,HH2\n")


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
    subprocess.run([BIN, "user", "add", "--database-url", url, "--username", "congan.xa30730",
                    "--role", "commune_police", "--jurisdiction", "30730"],
                   input=(PASSWORD + "\n").encode(), check=True)
    port = free_port()
    proc = subprocess.Popen([BIN, "serve", "--database-url", url, "--addr", f"127.0.0.1:{port}"])
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(base + "/healthz", timeout=1)
            break
        except OSError:
            time.sleep(0.05)
    else:
        proc.kill()
        raise RuntimeError("vaxtrace serve did not start")
    yield base
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture()
def browser(tmp_path):
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for arg in ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic",
                "--window-size=1000,1000", f"--user-data-dir={tmp_path / 'profile'}"]:
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()
