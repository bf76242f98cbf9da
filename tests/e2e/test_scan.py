"""The certificate scanner page (/scan) in headless Chromium: a checkpoint officer reads an EU DCC
from a picture and from the camera (Chromium's fake camera playing a video of the QR code), and
sees the verdict of every step in both languages; a revoked certificate and a wrong text fail
at the step that names why. Also the printable certificate page reached from /history.
"""
import urllib.parse

import pytest
from PIL import Image
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

from conftest import (AN_ID, PASSWORD, api, assert_nfc, chromium_options, dcc_database, key_env, login,
                      result_text, run, screenshot, serving, sign_pending, wait)

CHECKPOINT, HEALTH = "chot.kg91", "yte.tinh91"


@pytest.fixture(scope="module")
def scan_server(tmp_path_factory):
    work = tmp_path_factory.mktemp("scan")
    url = dcc_database(work, [("ubnd.xa30730", "commune_signer", "30730"),
                              (CHECKPOINT, "checkpoint_officer", "91"),
                              (HEALTH, "province_health", "91")])
    with serving(url) as base:
        assert len(sign_pending(base, "ubnd.xa30730")["signed"]) == 2
        token = api(base, "/api/v1/auth/login", {"username": HEALTH, "password": PASSWORD})["token"]
        cert = api(base, f"/api/v1/citizens/{AN_ID}/certificate", token=token)
        # The CLI returns the same certificate while the record is unchanged, as a picture.
        png = work / "an.png"
        out = run("cert", "issue", AN_ID, "--database-url", url, "--out-png", str(png), env=key_env(), text=True)
        assert out.stdout.strip() == cert["hc1"]
        yield {"base": base, "png": png, "cert": cert, "token": token, "work": work}


def open_scanner(driver, base):
    login(driver, base, username=CHECKPOINT, next_page="/scan")


def steps(driver):
    return {li.get_attribute("data-step"): li.get_attribute("data-status")
            for li in driver.find_elements(By.CSS_SELECTOR, "#steps li")}


def test_a_picture_of_a_valid_certificate(scan_server, browser):
    open_scanner(browser, scan_server["base"])
    browser.find_element(By.ID, "picture").send_keys(str(scan_server["png"]))
    text = result_text(browser, "HỢP LỆ / VALID")
    assert "KHÔNG HỢP LỆ" not in text
    assert "Nguyễn Văn An" in text and "NGUYEN<<VAN<AN" in text
    assert "2/2" in text and "1987-03-09" in text
    assert set(steps(browser).values()) == {"passed"}, steps(browser)
    assert_nfc(browser)
    screenshot(browser, "scan-valid.png")


def test_the_camera_reads_the_code(scan_server, tmp_path):
    # A Y4M video of the QR picture stands in for the camera.
    image = Image.open(scan_server["png"]).convert("L")
    side = image.width + image.width % 2
    frame = Image.new("L", (side, side), 255)
    frame.paste(image, (0, 0))
    video = tmp_path / "qr.y4m"
    with video.open("wb") as f:
        f.write(f"YUV4MPEG2 W{side} H{side} F5:1 Ip A1:1 C420jpeg\n".encode())
        chroma = bytes([128]) * ((side // 2) * (side // 2) * 2)
        for _ in range(5):
            f.write(b"FRAME\n" + frame.tobytes() + chroma)
    opts = chromium_options(tmp_path, "--use-fake-device-for-media-stream",
                            "--use-fake-ui-for-media-stream", f"--use-file-for-fake-video-capture={video}")
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    try:
        open_scanner(driver, scan_server["base"])
        driver.find_element(By.ID, "camera").click()
        text = result_text(driver, "HỢP LỆ / VALID")
        assert "Nguyễn Văn An" in text
        wait(driver).until(EC.invisibility_of_element_located((By.ID, "video")))
    finally:
        driver.quit()


def test_pasted_garbage_fails_at_the_prefix(scan_server, browser):
    open_scanner(browser, scan_server["base"])
    browser.find_element(By.ID, "qr").send_keys("<b>HC2:not a certificate</b>")
    browser.find_element(By.ID, "check").click()
    text = result_text(browser, "KHÔNG HỢP LỆ / NOT VALID")
    assert "Tiền tố HC1" in text and "HC1 prefix" in text
    assert steps(browser)["prefix"] == "failed"
    assert not browser.find_elements(By.CSS_SELECTOR, "#result b")


def test_the_printable_certificate_from_history(scan_server, browser):
    login(browser, scan_server["base"], username=HEALTH, next_page="/history")
    browser.find_element(By.ID, "query").send_keys(AN_ID)
    browser.find_element(By.ID, "history-submit").click()
    link = wait(browser).until(EC.presence_of_element_located((By.ID, "print-certificate")))
    browser.get(link.get_attribute("href"))
    text = wait(browser).until(EC.presence_of_element_located((By.ID, "certificate"))).text
    assert "Chứng nhận tiêm chủng COVID-19" in text and "COVID-19 vaccination certificate" in text
    assert "Nguyễn Văn An" in text and "09/03/1987" in text and scan_server["cert"]["uvci"] in text
    qr = browser.find_element(By.CSS_SELECTOR, ".qr img")
    assert browser.execute_script("return arguments[0].naturalWidth", qr) > 0, "the QR image renders"
    assert_nfc(browser)
    screenshot(browser, "certificate-print.png")


def test_a_revoked_certificate_fails_at_revocation(scan_server, browser):
    cert = scan_server["cert"]
    uvci = urllib.parse.quote(cert["uvci"], safe="")
    out = api(scan_server["base"], f"/api/v1/certificates/{uvci}/revoke", {"reason": "wrong_data"},
              token=scan_server["token"])
    assert out["revoked"] is True
    open_scanner(browser, scan_server["base"])
    browser.find_element(By.ID, "picture").send_keys(str(scan_server["png"]))
    text = result_text(browser, "KHÔNG HỢP LỆ / NOT VALID")
    assert "Chưa bị thu hồi" in text and "Not revoked" in text
    assert steps(browser)["revocation"] == "failed"
    assert steps(browser)["signature"] == "passed"
    screenshot(browser, "scan-revoked.png")
