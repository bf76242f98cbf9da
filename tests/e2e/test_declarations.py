"""Declarations in headless Chromium: a citizen declares on /declare (pickers from the real
administrative units; a registry mismatch highlights the field), gets the 72-hour pass; the
checkpoint officer checks it on /checkpoint; the commune police see it on /inbox and mark it
followed up.
"""
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select

from conftest import (AN_ID, BINH_ID, PASSWORD, api, assert_nfc, dcc_database, key_env, login,
                      result_text, run, screenshot, serving, wait)

CITIZEN, OFFICER, POLICE, HEALTH = "dan.an", "chot.kg91", "congan.xa30730", "yte.tinh91"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    work = tmp_path_factory.mktemp("declare")
    url = dcc_database(work, [(CITIZEN, "citizen", "91"), (OFFICER, "checkpoint_officer", "91"),
                              (POLICE, "commune_police", "30730"), (HEALTH, "province_health", "91")])
    run("keys", "pass-signer", "--database-url", url, env=key_env())
    with serving(url) as base:
        token = api(base, "/api/v1/auth/login", {"username": HEALTH, "password": PASSWORD})["token"]
        api(base, "/api/v1/checkpoints", {"code": "KG-RACHGIA-1", "name": "Chốt cửa ngõ Rạch Giá",
                                          "commune_code": "30730"}, token=token)
        district = next(d["code"] for d in api(base, "/api/v1/admin-units?parent=91")["units"]
                        if any(c["code"] == "30730" for c in api(base, f"/api/v1/admin-units?parent={d['code']}")["units"]))
        yield {"base": base, "district": district, "state": {}}


def pick(driver, picker, province, district, commune):
    selects = driver.find_elements(By.CSS_SELECTOR, f"#{picker} select")
    for select, code in zip(selects, (province, district, commune)):
        wait(driver).until(lambda d, s=select, c=code: any(o.get_attribute("value") == c for o in Select(s).options))
        Select(select).select_by_value(code)


def fill(driver, site, name):
    f = lambda id_, text: driver.find_element(By.ID, id_).send_keys(text)  # noqa: E731
    for id_ in ("personal_id", "full_name", "birth_date", "origin_address", "destination_address", "vehicle"):
        driver.find_element(By.ID, id_).clear()
    f("personal_id", AN_ID)
    f("full_name", name)
    f("birth_date", "1987-03-09")
    Select(driver.find_element(By.ID, "sex")).select_by_value("M")
    driver.find_element(By.CSS_SELECTOR, "input[value=cough]").click()
    pick(driver, "origin-picker", "91", site["district"], "30730")
    f("origin_address", "12 Trần Phú")
    pick(driver, "destination-picker", "01", "001", "00004")
    f("destination_address", "<b>1 Đinh Tiên Hoàng</b>")
    Select(driver.find_element(By.ID, "transport")).select_by_value("car")
    f("vehicle", "68A-123.45")


def test_a_citizen_declares_and_gets_a_pass(site, browser):
    login(browser, site["base"], username=CITIZEN, next_page="/declare")
    fill(browser, site, "Nguyễn Văn Ân")
    # Markup in an address is refused by name, never rendered.
    browser.find_element(By.ID, "declare-submit").click()
    result_text(browser, "destination_address")
    assert not browser.find_elements(By.CSS_SELECTOR, "#result b")
    assert "invalid" in browser.find_element(By.ID, "destination_address").get_attribute("class")
    browser.find_element(By.ID, "destination_address").clear()
    browser.find_element(By.ID, "destination_address").send_keys("1 Đinh Tiên Hoàng")
    # A name the registry does not hold for this ID: the field is named, the registry's is not shown.
    browser.find_element(By.ID, "declare-submit").click()
    text = result_text(browser, "không khớp")
    assert "full_name" in text and "Does not match the national population registry" in text
    assert "invalid" in browser.find_element(By.ID, "full_name").get_attribute("class")
    assert "Nguyễn Văn An" not in text
    browser.find_element(By.ID, "full_name").clear()
    browser.find_element(By.ID, "full_name").send_keys("Nguyễn Văn An")
    browser.find_element(By.ID, "declare-submit").click()
    result_text(browser, "ĐÃ KHAI BÁO / DECLARED")
    qr = browser.find_element(By.ID, "pass-qr")
    assert browser.execute_script("return arguments[0].naturalWidth", qr) > 0, "the pass QR renders"
    # textContent, not .text: base45 may hold two spaces in a row, which .text would fold into one.
    pass_text = browser.find_element(By.ID, "pass-text").get_attribute("textContent")
    assert pass_text.startswith("VNP1:") and AN_ID not in pass_text
    assert_nfc(browser)
    screenshot(browser, "declare-pass.png")
    site["state"]["pass"] = pass_text


def check(driver, text):
    box = driver.find_element(By.ID, "qr")
    box.clear()
    box.send_keys(text)
    driver.find_element(By.ID, "check").click()


def test_the_checkpoint_officer_checks_the_pass(site, browser):
    pass_text = site["state"]["pass"]
    login(browser, site["base"], username=OFFICER, next_page="/checkpoint")
    wait(browser).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#checkpoint option[value='KG-RACHGIA-1']")))
    check(browser, pass_text)
    text = result_text(browser, "HỢP LỆ / VALID")
    assert "Nguyễn Văn An" in text and "1987" in text and "3456" in text
    assert "Hà Nội" in text and "CÓ / YES" in text
    screenshot(browser, "checkpoint-valid.png")
    edited = pass_text[:-3] + ("AAA" if not pass_text.endswith("AAA") else "BBB")
    check(browser, edited)
    wait(browser).until(EC.text_to_be_present_in_element((By.ID, "verdict"), "FORGED"))
    assert "Nguyễn Văn An" not in browser.find_element(By.ID, "result").text
    check(browser, f"{BINH_ID}||Trần Thị Bình|20111995|Nữ|5 Lê Lợi|01012021")
    wait(browser).until(EC.text_to_be_present_in_element((By.ID, "verdict"), "NO DECLARATION"))


def test_the_commune_police_follow_it_up(site, browser):
    login(browser, site["base"], username=POLICE, next_page="/inbox")
    text = result_text(browser, "Nguyễn Văn An")
    assert "Thường trú / Permanent" in text and "Ô tô / Car 68A-123.45" in text
    assert "Triệu chứng / Risk" in text
    browser.find_element(By.CSS_SELECTOR, "input.pick").click()
    browser.find_element(By.ID, "ack").click()
    wait(browser).until(EC.text_to_be_present_in_element((By.ID, "inbox"), "✓ " + POLICE))
    assert browser.find_element(By.ID, "export").get_attribute("href").endswith("/api/v1/declarations/inbox.csv")
    screenshot(browser, "inbox.png")
    browser.find_element(By.ID, "unread").click()
    browser.find_element(By.ID, "inbox-submit").click()
    result_text(browser, "Không có khai báo / No declarations")
