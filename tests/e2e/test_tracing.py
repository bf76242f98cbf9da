"""Venue check-in and contact tracing in headless Chromium: a venue owner registers a venue on
/venues and downloads its poster; a citizen checks in on /checkin by giving the poster picture to
the page's QR reader; a health officer confirms a lab's positive result as a case on /cases, sees
the movement timeline and traces the contacts (F1 from an overlapping stay at the venue).
"""
import datetime
import urllib.request

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select

from conftest import (AN_ID, BINH_ID, PASSWORD, api, assert_nfc, dcc_database, key_env, login,
                      result_text, run, screenshot, serving, wait)
from test_declarations import pick

OWNER, CITIZEN, HEALTH, LAB = "diadiem.xa30730", "dan.an", "yte.tinh91", "xetnghiem.xa30730"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    work = tmp_path_factory.mktemp("tracing")
    url = dcc_database(work, [(OWNER, "venue_owner", "30730"), (CITIZEN, "citizen", "91"),
                              (HEALTH, "province_health", "91"), (LAB, "vaccination_site", "30730")])
    run("keys", "pass-signer", "--database-url", url, env=key_env())
    with serving(url) as base:
        district = next(d["code"] for d in api(base, "/api/v1/admin-units?parent=91")["units"]
                        if any(c["code"] == "30730" for c in api(base, f"/api/v1/admin-units?parent={d['code']}")["units"]))
        yield {"base": base, "district": district, "work": work, "state": {}}


def token(base, username):
    return api(base, "/api/v1/auth/login", {"username": username, "password": PASSWORD})["token"]


def test_a_venue_owner_registers_and_prints_the_poster(site, browser):
    login(browser, site["base"], username=OWNER, next_page="/venues")
    browser.find_element(By.ID, "name").send_keys("Chợ Rạch Giá")
    Select(browser.find_element(By.ID, "kind")).select_by_value("market")
    pick(browser, "venue-picker", "91", site["district"], "30730")
    browser.find_element(By.ID, "address").send_keys("2 Trần Phú")
    browser.find_element(By.ID, "register").click()
    assert "Chợ Rạch Giá" in result_text(browser, "Đã đăng ký / Registered")
    row = wait(browser).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#venues tbody tr")))
    venue_id = row.get_attribute("data-venue")
    assert "Chợ / Market" in row.text
    assert_nfc(browser)
    screenshot(browser, "venues-registered.png")
    req = urllib.request.Request(f"{site['base']}/api/v1/venues/{venue_id}/poster.png")
    req.add_header("Authorization", "Bearer " + token(site["base"], OWNER))
    with urllib.request.urlopen(req, timeout=10) as res:
        assert res.headers["Content-Type"] == "image/png"
        poster = site["work"] / "poster.png"
        poster.write_bytes(res.read())
    site["state"].update(venue_id=int(venue_id), poster=poster)


def test_a_citizen_checks_in_from_the_poster_picture(site, browser):
    login(browser, site["base"], username=CITIZEN, next_page="/checkin")
    browser.find_element(By.ID, "picture").send_keys(str(site["state"]["poster"]))
    wait(browser).until(lambda d: d.find_element(By.ID, "venue_code").get_attribute("value").startswith("VNV1:"))
    browser.find_element(By.ID, "personal_id").send_keys(AN_ID)
    browser.find_element(By.ID, "birth_date").send_keys("1987-03-10")
    browser.find_element(By.ID, "check-in").click()
    # A wrong birth date is refused in both languages, without saying which field is wrong.
    assert "do not match" in result_text(browser, "không khớp")
    browser.find_element(By.ID, "birth_date").clear()
    browser.find_element(By.ID, "birth_date").send_keys("1987-03-09")
    browser.find_element(By.ID, "check-in").click()
    text = result_text(browser, "ĐÃ VÀO / CHECKED IN")
    assert "Chợ Rạch Giá" in text
    assert_nfc(browser)
    screenshot(browser, "checkin-done.png")


def test_health_confirms_the_case_and_traces_contacts(site, browser):
    base, venue = site["base"], site["state"]["venue_id"]
    now = datetime.datetime.now(datetime.timezone.utc)
    at = lambda hours: (now - datetime.timedelta(hours=hours)).isoformat(timespec="seconds")  # noqa: E731
    # Earlier today An and Bình were at the market together for 50 minutes (sent by the venue later).
    outcome = api(base, "/api/v1/checkins/batch", {"venue_id": venue, "items": [
        {"personal_id": AN_ID, "checked_in_at": at(3)},
        {"personal_id": BINH_ID, "checked_in_at": at(2.84)}]}, token=token(base, OWNER))
    assert outcome["accepted"] == 2, outcome
    test = api(base, "/api/v1/tests", {"personal_id": AN_ID, "kind": "pcr", "sampled_at": at(1),
                                       "result": "positive", "lab": "CDC Kiên Giang", "lab_ref": "E2E-1"},
               token=token(base, LAB))
    login(browser, base, username=HEALTH, next_page="/cases")
    browser.find_element(By.ID, "test_id").send_keys(str(test["id"]))
    browser.find_element(By.ID, "confirm").click()
    wait(browser).until(lambda d: d.find_element(By.ID, "case_id").get_attribute("value").startswith("F0-91-"))
    result_text(browser, "Infectious window")
    timeline = browser.find_element(By.ID, "timeline").text
    assert "Chợ Rạch Giá" in timeline and "Vào địa điểm / Check-in" in timeline
    browser.find_element(By.ID, "trace").click()
    assert "F1: 1" in result_text(browser, "F2:")
    row = wait(browser).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#contacts tbody tr[data-level='1']")))
    assert BINH_ID in row.text and "Chợ Rạch Giá" in row.text
    assert_nfc(browser)
    screenshot(browser, "cases-traced.png")
