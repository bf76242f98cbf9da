"""Vaccination pages in headless Chromium: the commune's review queue, the People's Committee's
signing page and the health officer's status/history page, on the records conftest imports."""
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select

from conftest import AN_ID, BINH_ID, assert_nfc, login, result_text, screenshot, wait


def queue_rows(driver):
    return driver.find_elements(By.CSS_SELECTOR, "#queue tbody tr.row")


def compare_cell(driver, label_vi, column):
    """A cell of the side-by-side table: column 1 is the record, 2 the first candidate."""
    return driver.find_element(By.XPATH, f"//table[@id='compare']/tbody/tr[th[contains(., '{label_vi}')]]/td[{column}]")


def test_commune_health_links_a_noisy_record_after_comparing(server, browser):
    login(browser, server, "tramyte.xa30733", next_page="/review")
    wait(browser).until(lambda d: queue_rows(d))
    rows = queue_rows(browser)
    # Only the noisy report waits in commune 30733's queue; An's exact doses were linked on import.
    assert [r.find_element(By.XPATH, "td[3]").text for r in rows] == ["Tran Thi Binh"]
    assert "review" in rows[0].text and "1995-11" in rows[0].text
    record_id = rows[0].get_attribute("data-id")
    rows[0].find_element(By.XPATH, "td[3]").click()

    wait(browser).until(EC.presence_of_element_located((By.ID, "compare")))
    button = browser.find_element(By.CSS_SELECTOR, f"#compare .link-btn[data-pid='{BINH_ID}']")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#compare .link-btn")) == 1
    assert compare_cell(browser, "Số định danh", 2).text == BINH_ID
    assert compare_cell(browser, "Số định danh", 1).text == "—"
    name = compare_cell(browser, "Họ tên", 2)
    assert (name.text, name.get_attribute("class")) == ("Trần Thị Bình", "same")  # accents differ only
    birth = compare_cell(browser, "Ngày sinh", 2)
    assert (birth.text, birth.get_attribute("class")) == ("1995-11-20", "diff")  # month only on the report
    assert compare_cell(browser, "Ngày sinh", 1).text == "1995-11"
    assert compare_cell(browser, "Xã", 2).get_attribute("class") == "same"
    assert browser.find_elements(By.CSS_SELECTOR, "#compare td.same")
    assert browser.find_elements(By.CSS_SELECTOR, "#compare td.diff")
    assert browser.find_elements(By.CSS_SELECTOR, "#history li") == []
    assert_nfc(browser)
    screenshot(browser, "review.png")

    # Every decision needs a reason: without one, a bilingual error and nothing changes.
    button.click()
    text = result_text(browser, "Thiếu trường bắt buộc")
    assert browser.find_element(By.ID, "error-vi").text == "Thiếu trường bắt buộc"
    assert "Required field is missing" in text and "reason" in text
    assert [r.get_attribute("data-id") for r in queue_rows(browser)] == [record_id]

    reason = "Đối chiếu sổ tiêm: cùng người, tên không dấu"
    browser.find_element(By.ID, "reason").send_keys(reason)
    button.click()
    done = result_text(browser, f"Đã lưu bản ghi #{record_id}")
    assert browser.find_element(By.ID, "done").text == done
    assert "v2, confirmed" in done
    wait(browser).until(lambda d: not queue_rows(d))
    assert browser.find_element(By.ID, "detail").text == ""

    # The record is now among the linked ones, with the officer's decision in its history.
    Select(browser.find_element(By.ID, "decision")).select_by_value("auto,confirmed")
    browser.find_element(By.CSS_SELECTOR, "#filter-form button[type=submit]").click()
    wait(browser).until(lambda d: [r.get_attribute("data-id") for r in queue_rows(d)] == [record_id])
    row = queue_rows(browser)[0]
    assert "confirmed" in row.text
    row.find_element(By.XPATH, "td[3]").click()
    entry = wait(browser).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#history li")))
    assert "tramyte.xa30733" in entry.text and reason in entry.text
    assert_nfc(browser)


def history_lookup(driver, query):
    box = driver.find_element(By.ID, "query")
    box.clear()
    box.send_keys(query)
    driver.find_element(By.ID, "history-submit").click()


def dose_rows(driver):
    return [[td.text for td in tr.find_elements(By.TAG_NAME, "td")]
            for tr in driver.find_elements(By.CSS_SELECTOR, "#doses tbody tr")]


def test_signing_turns_the_status_green(server, browser):
    # Before the commune signs, linked doses are shown but do not count.
    login(browser, server, "yte.tinh91", next_page="/history")
    history_lookup(browser, AN_ID)
    assert result_text(browser, "CHƯA TIÊM", "colour") == "CHƯA TIÊM / NONE"
    assert "2 mũi chờ UBND xã ký" in browser.find_element(By.ID, "result").text
    assert [r[2:] for r in dose_rows(browser)] == [["1", "AZ0701", "—", "—"], ["2", "AZ0901", "—", "—"]]

    browser.delete_all_cookies()
    login(browser, server, "ubnd.xa30730", next_page="/signing")
    assert result_text(browser, "Chờ ký", "waiting") == "Chờ ký / Waiting for signature: 2"
    pending = browser.find_elements(By.CSS_SELECTOR, "#pending tbody tr")
    assert len(pending) == 2
    assert all(AN_ID in tr.text and "Nguyễn Văn An" in tr.text for tr in pending)
    assert_nfc(browser)  # the name was imported decomposed (NFD)
    browser.find_element(By.ID, "sign").click()
    assert result_text(browser, "Đã ký", "signed") == "Đã ký / Signed: 2 · bỏ qua / skipped: 0"
    wait(browser).until(EC.text_to_be_present_in_element((By.ID, "waiting"), "Waiting for signature: 0"))
    assert browser.find_elements(By.CSS_SELECTOR, "#pending tbody tr") == []
    screenshot(browser, "signing.png")

    browser.delete_all_cookies()
    login(browser, server, "yte.tinh91", next_page="/history")
    history_lookup(browser, AN_ID)
    assert result_text(browser, "XANH", "colour") == "XANH / GREEN"
    assert browser.find_element(By.ID, "rule").text == "VN-2022.1"
    assert "2 liều cơ bản" in browser.find_element(By.ID, "reason").text
    assert "chờ UBND xã ký" not in browser.find_element(By.ID, "result").text
    doses = dose_rows(browser)
    assert [r[0] for r in doses] == ["2021-07-01", "2021-09-01"]
    assert all("AstraZeneca" in r[1] for r in doses)
    assert [r[2:] for r in doses] == [["1", "AZ0701", "✓", "✓"], ["2", "AZ0901", "✓", "✓"]]
    assert_nfc(browser)
    screenshot(browser, "history.png")


def test_history_errors_are_bilingual_text(server, browser):
    login(browser, server, "yte.tinh91", next_page="/history")
    history_lookup(browser, "091087999999")
    text = result_text(browser, "Không tìm thấy công dân")
    assert "Citizen not found" in text
    assert browser.find_elements(By.ID, "colour") == []

    markup = "<img src=x onerror=alert(1)>"
    history_lookup(browser, markup)
    text = result_text(browser, "Trường / Field: personal_id")
    assert "Số định danh phải gồm đúng 12 chữ số" in text and "Personal ID must be exactly 12 digits" in text
    box = browser.find_element(By.ID, "result")
    assert box.find_elements(By.TAG_NAME, "img") == []
    assert browser.find_elements(By.ID, "colour") == []
    try:
        browser.switch_to.alert.dismiss()
        raise AssertionError("an alert ran")
    except NoAlertPresentException:
        pass
    assert_nfc(browser)
