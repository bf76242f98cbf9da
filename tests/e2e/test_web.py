"""The web UI in headless Chromium, as an officer uses it: log in, look citizens up, verify identities."""
import unicodedata

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

from conftest import SCREENSHOTS, login, result_text, wait


def test_wrong_password_shows_a_bilingual_error(server, browser):
    login(browser, server, password="not-the-password")
    text = result_text(browser, "Sai tên đăng nhập hoặc mật khẩu")
    assert "Wrong username or password" in text
    assert browser.current_url.endswith("/login")


def test_logged_out_pages_send_you_to_login(server, browser):
    browser.get(server + "/lookup")
    wait(browser).until(EC.url_contains("/login?next=/lookup"))


def test_officer_looks_up_a_citizen_by_id_and_by_card_qr(server, browser):
    login(browser, server)
    wait(browser).until(EC.url_contains("/lookup"))
    wait(browser).until(EC.text_to_be_present_in_element((By.ID, "who"), "congan.xa30730"))
    assert "Công an xã" in browser.find_element(By.ID, "who").text
    browser.find_element(By.ID, "query").send_keys("091087123456")
    browser.find_element(By.ID, "lookup-submit").click()
    text = result_text(browser, "Nguyễn Văn An")
    assert "Phường Vĩnh Thanh Vân, Thành phố Rạch Giá, Tỉnh Kiên Giang" in text
    assert "Thường trú" in text and "Permanent residence" in text
    # Text on the page is NFC, as stored.
    assert unicodedata.is_normalized("NFC", text)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / "lookup.png"
    assert browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000

    query = browser.find_element(By.ID, "query")
    query.clear()
    query.send_keys("091087123456|371234567|Nguyễn Văn An|09031987|Nam|12 Trần Phú|15072021")
    browser.find_element(By.ID, "lookup-submit").click()
    wait(browser).until(EC.text_to_be_present_in_element((By.ID, "card-check"), "Thẻ khớp"))


def test_citizen_outside_the_commune_is_refused(server, browser):
    login(browser, server)
    wait(browser).until(EC.url_contains("/lookup"))
    browser.find_element(By.ID, "query").send_keys("091195000001")
    browser.find_element(By.ID, "lookup-submit").click()
    text = result_text(browser, "không thuộc địa bàn")
    assert "outside your jurisdiction" in text
    assert "Trần Thị Bình" not in browser.page_source


def test_markup_in_input_is_shown_as_text_never_run(server, browser):
    login(browser, server)
    wait(browser).until(EC.url_contains("/lookup"))
    browser.find_element(By.ID, "query").send_keys('<img src=x onerror="document.title=1">|a')
    browser.find_element(By.ID, "lookup-submit").click()
    result_text(browser, "Trường / Field")
    assert browser.find_elements(By.CSS_SELECTOR, "#result img") == []
    assert browser.title != "1"


def test_identity_verification_page(server, browser):
    login(browser, server)
    wait(browser).until(EC.url_contains("/lookup"))
    browser.get(server + "/verify")
    fields = {"personal_id": "091087123456", "full_name": unicodedata.normalize("NFD", "nguyễn văn an"),
              "birth_date": "1987-03-09"}
    for name, value in fields.items():
        wait(browser).until(EC.presence_of_element_located((By.ID, name))).send_keys(value)
    browser.find_element(By.ID, "verify-submit").click()
    wait(browser).until(EC.text_to_be_present_in_element((By.ID, "verdict"), "Khớp"))
    date = browser.find_element(By.ID, "birth_date")
    date.clear()
    date.send_keys("1987-03-10")
    browser.find_element(By.ID, "verify-submit").click()
    wait(browser).until(EC.text_to_be_present_in_element((By.ID, "verdict"), "Không khớp: ngày sinh"))
    assert "No match: birth_date" in browser.find_element(By.ID, "result").text
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    assert browser.save_screenshot(str(SCREENSHOTS / "verify.png"))
