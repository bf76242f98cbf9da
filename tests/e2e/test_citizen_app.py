"""The citizen app (/app/) in headless Chromium on a 360 × 780 phone screen: sign-up with a one-time
code read from the development SMS outbox, the health card, a declaration and its 72-hour pass,
a venue check-in, the certificate, a correction request followed in the history, a household
member, the privacy page, log-out; the refusals (someone else's identity, wrong codes until the
code locks); accessibility basics on every screen (labels, contrast, keyboard, no sideways
scrolling, lang="vi"); the installable PWA (manifest, icons, service worker); and the officer's
re-binding of a lost phone on /lookup.
"""
import json
import re
import time
import urllib.request

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select

from conftest import (AN_ID, BINH_ID, HEADER, PASSWORD, api, assert_nfc, chromium_options, dcc_database,
                      key_env, login, result_text, run, screenshot, serving, sign_pending, sms_outbox, wait)
from test_declarations import pick

SIGNER, OWNER, POLICE = "ubnd.xa30730", "diadiem.xa30730", "congan.xa30730"
AN_PHONE, NEW_PHONE = "0912345678", "0909111222"
# An's daughter (same household HH1) and a man of another household who has a phone on record.
CUC_ID, DUNG_ID, DUNG_PHONE = "091315000002", "091090000003", "0987654321"
MORE_PEOPLE = ("091315000002,Nguyễn Thị Cúc,2015-06-01,F,30730,12 Trần Phú,,,,,HH1\n"
               "091090000003,Lê Văn Dũng,1990-01-01,M,30730,7 Lý Thường Kiệt,,,0987654321,,HH3\n")
WIDTH, HEIGHT = 360, 780


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    work = tmp_path_factory.mktemp("citizen")
    url = dcc_database(work, [(SIGNER, "commune_signer", "30730"), (OWNER, "venue_owner", "30730"),
                              (POLICE, "commune_police", "30730")])
    (work / "more.csv").write_text(HEADER + MORE_PEOPLE, encoding="utf-8")
    run("import", "citizens", str(work / "more.csv"), "--database-url", url, "--no-progress")
    run("keys", "pass-signer", "--database-url", url, env=key_env())
    with serving(url) as base:
        assert len(sign_pending(base, SIGNER)["signed"]) == 2, "An's two doses are signed"
        owner = api(base, "/api/v1/auth/login", {"username": OWNER, "password": PASSWORD})["token"]
        venue = api(base, "/api/v1/venues", {"name": "Chợ Rạch Giá", "kind": "market", "commune_code": "30730",
                                             "address": "2 Trần Phú"}, token=owner)
        district = next(d["code"] for d in api(base, "/api/v1/admin-units?parent=91")["units"]
                        if any(c["code"] == "30730" for c in api(base, f"/api/v1/admin-units?parent={d['code']}")["units"]))
        yield {"base": base, "outbox": sms_outbox(url), "venue_code": venue["code"], "district": district, "state": {}}


@pytest.fixture(scope="module")
def phone(tmp_path_factory):
    """One phone-sized browser for the whole module: the session cookie carries from test to test."""
    profile = tmp_path_factory.mktemp("phone")
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"),
                              options=chromium_options(profile, f"--window-size={WIDTH},{HEIGHT}"))
    driver.set_page_load_timeout(30)
    driver.set_window_size(WIDTH, HEIGHT)
    yield driver
    driver.quit()


# ---- helpers --------------------------------------------------------------------------------------

def outbox_lines(outbox):
    return outbox.read_text(encoding="utf-8").splitlines() if outbox.exists() else []


def code_sent(outbox, to, after):
    """The 6-digit code in the first text to `to` written after line `after` of the outbox."""
    deadline = time.time() + 10
    while time.time() < deadline:
        for line in outbox_lines(outbox)[after:]:
            sms = json.loads(line)
            if re.sub(r"\D", "", sms["to"])[-9:] == to[-9:]:
                codes = re.findall(r"(?<!\d)\d{6}(?!\d)", sms["text"])
                assert len(codes) == 1, sms
                return codes[0]
        time.sleep(0.1)
    raise AssertionError(f"no code sent to {to}")


def click(driver, element_id):
    """Clicks an element after bringing it to the middle of the screen (clear of the tab bar)."""
    e = wait(driver).until(EC.visibility_of_element_located((By.ID, element_id)))
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", e)
    wait(driver).until(EC.element_to_be_clickable((By.ID, element_id))).click()
    return e


def fill(driver, element_id, value):
    e = wait(driver).until(EC.visibility_of_element_located((By.ID, element_id)))
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", e)
    e.clear()
    e.send_keys(value)
    return e


def form_errors(driver, form_id, previous=""):
    """Waits for error text on the form other than `previous` (by field or for the whole form)."""
    def shown(d):
        found = d.execute_script("""return [...document.querySelectorAll(arguments[0])]
            .filter((e) => e.getClientRects().length).map((e) => e.innerText).join(" ").trim();""",
                                 f"#{form_id} .field-error, #{form_id} .form-error")
        return found if found and found != previous else False
    return wait(driver).until(shown)


def screen(driver, name):
    """Waits until the hash route `name` shows its screen."""
    wait(driver).until(lambda d: d.find_element(By.ID, "screen-" + name).is_displayed())


def text_of(driver, element_id, contains):
    wait(driver).until(EC.text_to_be_present_in_element((By.ID, element_id), contains))
    return driver.find_element(By.ID, element_id).text


def go(driver, tab):
    click(driver, "tab-" + tab)
    screen(driver, tab)


# In-page checks; each returns a list of offenders, empty when all is well.
UNLABELLED = """
return [...document.querySelectorAll("input:not([type=hidden]), select, textarea")]
  .filter((e) => !(e.id && document.querySelector('label[for="' + CSS.escape(e.id) + '"]')) && !e.getAttribute("aria-label"))
  .map((e) => e.outerHTML.slice(0, 120));
"""
LOW_CONTRAST = """
const rgba = (s) => { const m = s.match(/[\\d.]+/g).map(Number); return m.length === 3 ? [...m, 1] : m; };
const lum = ([r, g, b]) => { const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
                            return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
const background = (e) => { for (; e; e = e.parentElement) { const c = rgba(getComputedStyle(e).backgroundColor); if (c[3] > 0) return c; }
                            return [255, 255, 255, 1]; };
const shown = (e) => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== "hidden" && !e.closest("[hidden], :disabled");
const out = [];
for (const e of document.querySelectorAll("body *")) {
  const own = [...e.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
  if (!own || !shown(e) || ["SCRIPT", "STYLE", "OPTION", "svg"].includes(e.tagName)) continue;
  const s = getComputedStyle(e);
  const fg = rgba(s.color), bg = background(e);
  const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
  const ratio = (a + 0.05) / (b + 0.05);
  if (ratio < 4.5) out.push(e.tagName + "#" + e.id + "." + e.className + " " + ratio.toFixed(2) + " " + s.color + " on " + bg + ": " + e.textContent.trim().slice(0, 40));
}
return out;
"""


def accessible(driver):
    """Accessibility basics on the screen shown: lang, labels, contrast ≥ 4.5:1, no sideways scroll."""
    assert driver.execute_script("return document.documentElement.lang") == "vi"
    assert driver.execute_script("return window.innerWidth") == WIDTH
    assert driver.execute_script("return document.documentElement.scrollWidth") <= WIDTH, "no horizontal scroll"
    assert driver.execute_script(UNLABELLED) == []
    assert driver.execute_script(LOW_CONTRAST) == []
    assert_nfc(driver)


def tab_through(driver, wanted, presses=80):
    """Tabs round the page until the focus comes back to where it started; every id in `wanted`
    gets the focus on the way, and the focus always shows (an outline of 2 px or more, :focus-visible)."""
    driver.execute_script("document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0);"
                          "document.querySelectorAll('[data-tabbed]').forEach((e) => delete e.dataset.tabbed)")
    reached, invisible = [], []
    for _ in range(presses):
        ActionChains(driver).send_keys(Keys.TAB).perform()
        info = driver.execute_script("""const e = document.activeElement, s = getComputedStyle(e);
            if (e === document.body || e === document.documentElement) return null;  // between the last and the first
            const again = e.dataset.tabbed === "1";
            e.dataset.tabbed = "1";
            return [e.id || e.tagName + "." + e.className, again, s.outlineStyle, parseFloat(s.outlineWidth), e.matches(':focus-visible')];""")
        if info is None:
            continue
        if info[1]:
            break
        reached.append(info[0])
        if info[2] == "none" or info[3] < 2 or not info[4]:
            invisible.append(info)
    missing = [w for w in wanted if w not in reached]
    assert not missing, (missing, reached)
    assert not invisible, invisible
    return reached


def sign_up(driver, personal_id, full_name, birth_date, phone_number):
    click(driver, "to-signup")
    screen(driver, "signup")
    for name, value in (("personal_id", personal_id), ("full_name", full_name), ("birth_date", birth_date),
                        ("phone", phone_number)):
        fill(driver, "su-" + name, value)
    click(driver, "signup-submit")


# ---- the tests ------------------------------------------------------------------------------------

def test_the_app_is_an_installable_pwa(site, phone):
    base = site["base"]
    phone.get(base + "/app")
    wait(phone).until(EC.url_to_be(base + "/app/#/login"))
    screen(phone, "login")
    accessible(phone)
    manifest_href = phone.find_element(By.CSS_SELECTOR, "link[rel=manifest]").get_attribute("href")
    with urllib.request.urlopen(manifest_href, timeout=10) as res:
        assert res.headers["Content-Type"].startswith("application/manifest+json")
        manifest = json.loads(res.read())
    assert manifest["display"] == "standalone" and manifest["start_url"] == "/app/" and manifest["scope"] == "/app/"
    assert "Sức khỏe công dân" in manifest["name"] and manifest["short_name"]
    sizes = {}
    for icon in manifest["icons"]:
        with urllib.request.urlopen(base + icon["src"], timeout=10) as res:
            assert res.headers["Content-Type"] == "image/png"
            png = res.read()
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        sizes[icon["sizes"]] = int.from_bytes(png[16:20], "big")
    assert sizes == {"192x192": 192, "512x512": 512}
    with urllib.request.urlopen(base + "/app/sw.js", timeout=10) as res:
        assert res.headers["Content-Type"].startswith("text/javascript")
        assert res.headers["Service-Worker-Allowed"] == "/app/"
    scope = phone.execute_async_script("""const done = arguments[arguments.length - 1];
        setTimeout(() => done("timeout"), 10000);
        navigator.serviceWorker.ready.then((r) => done(r.scope), (e) => done(String(e)));""")
    assert scope == base + "/app/"
    # Offline, the app still opens from the service worker's cache, and says it is offline.
    offline = {"latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}
    phone.execute_cdp_cmd("Network.enable", {})
    phone.execute_cdp_cmd("Network.emulateNetworkConditions", {**offline, "offline": True})
    try:
        phone.get(base + "/app/#/login")
        screen(phone, "login")
        wait(phone).until(EC.visibility_of_element_located((By.ID, "offline")))
        screenshot(phone, "citizen-offline.png")
    finally:
        phone.execute_cdp_cmd("Network.emulateNetworkConditions", {**offline, "offline": False})
    phone.get(base + "/app/")
    screen(phone, "login")
    assert not phone.find_element(By.ID, "offline").is_displayed()
    # The login screen is usable by keyboard alone, with the focus always visible.
    tab_through(phone, ["li-personal_id", "li-phone", "login-submit", "to-signup"])
    screenshot(phone, "citizen-login.png")


def test_sign_up_refuses_someone_elses_identity(site, phone):
    phone.get(site["base"] + "/app/#/login")
    # Bình's ID with An's name and birth date: the registry disagrees; which field is not said (public).
    sign_up(phone, BINH_ID, "Nguyễn Văn An", "1987-03-09", AN_PHONE)
    wait(phone).until(lambda d: d.find_element(By.ID, "su-full_name-error").text.strip())
    error = phone.find_element(By.ID, "su-full_name-error").text
    assert "/" in error, "bilingual message"
    assert phone.find_element(By.ID, "su-full_name").get_attribute("aria-invalid") == "true"
    assert "su-full_name-error" in phone.find_element(By.ID, "su-full_name").get_attribute("aria-describedby")
    assert "Trần Thị Bình" not in phone.find_element(By.TAG_NAME, "body").text, "the registry's value is never shown"
    accessible(phone)
    screenshot(phone, "citizen-signup-mismatch.png")


def test_wrong_codes_show_attempts_left_then_lock(site, phone):
    phone.get(site["base"] + "/app/#/signup")
    screen(phone, "signup")
    before = len(outbox_lines(site["outbox"]))
    # The Vietnamese way of writing the birth date is understood too.
    for name, value in (("personal_id", DUNG_ID), ("full_name", "Lê Văn Dũng"), ("birth_date", "01/01/1990"),
                        ("phone", DUNG_PHONE)):
        fill(phone, "su-" + name, value)
    click(phone, "signup-submit")
    screen(phone, "otp")
    assert text_of(phone, "otp-phone", "321") == "*******321"
    assert phone.find_element(By.ID, "otp-outbox").is_displayed(), "development deployment: the outbox is said"
    code = code_sent(site["outbox"], DUNG_PHONE, before)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    lefts, message = [], ""
    for _ in range(10):
        fill(phone, "otp-code", wrong)
        click(phone, "otp-submit")
        message = form_errors(phone, "otp-form", message)
        left = re.search(r"Còn (\d+) lần thử / (\d+) attempts left", message)
        if not left:
            break
        assert left.group(1) == left.group(2)
        lefts.append(int(left.group(1)))
        if len(lefts) == 1:
            screenshot(phone, "citizen-otp-wrong.png")
    assert len(lefts) >= 2 and lefts == sorted(lefts, reverse=True), lefts
    assert lefts[-1] in (0, 1), lefts
    # Locked: even the right code is refused now, and only a new code helps.
    assert phone.find_element(By.ID, "otp-submit").get_attribute("disabled") is not None
    accessible(phone)
    screenshot(phone, "citizen-otp-locked.png")
    before = len(outbox_lines(site["outbox"]))
    click(phone, "otp-resend")
    fresh = code_sent(site["outbox"], DUNG_PHONE, before)
    fill(phone, "otp-code", fresh)
    wait(phone).until(EC.element_to_be_clickable((By.ID, "otp-submit"))).click()
    screen(phone, "home")
    text_of(phone, "card-name", "Lê Văn Dũng")
    go(phone, "more")
    click(phone, "logout")
    screen(phone, "login")


def test_sign_up_with_a_code_shows_the_health_card(site, phone):
    phone.get(site["base"] + "/app/#/login")
    screen(phone, "login")
    before = len(outbox_lines(site["outbox"]))
    sign_up(phone, AN_ID, "Nguyễn Văn An", "1987-03-09", AN_PHONE)
    screen(phone, "otp")
    assert phone.find_element(By.ID, "otp-phone").text == "*******678"
    accessible(phone)
    screenshot(phone, "citizen-otp.png")
    fill(phone, "otp-code", code_sent(site["outbox"], AN_PHONE, before))
    click(phone, "otp-submit")
    screen(phone, "home")
    assert text_of(phone, "colour", "Xanh") == "Xanh / Green"
    card = phone.find_element(By.ID, "health-card")
    assert card.get_attribute("data-colour") == "green"
    assert "Nguyễn Văn An" in card.text and phone.find_element(By.ID, "rule-version").text not in ("", "—")
    assert phone.find_element(By.ID, "rule").text.strip()
    qr = phone.find_element(By.ID, "certificate-qr")
    assert phone.execute_script("return arguments[0].naturalWidth", qr) > 0, "the certificate QR renders"
    doses = phone.find_elements(By.CSS_SELECTOR, "#doses li")
    assert len(doses) == 2 and all("Đã ký / Signed" in d.text for d in doses)
    assert phone.find_element(By.ID, "no-pass").is_displayed()
    # No declaration yet, here or imported: asking for a pass from the latest one says so.
    click(phone, "home-renew-pass")
    note = wait(phone).until(lambda d: d.find_element(By.ID, "renew-note").text.strip())
    assert "/" in note, note
    accessible(phone)
    screenshot(phone, "citizen-home.png")
    # Keyboard: the main buttons are reached by Tab, with the focus shown, and Enter works.
    tab_through(phone, ["brand", "certificate-print", "certificate-fhir", "home-scan", "home-declare",
                        "tab-home", "tab-declare", "tab-checkin", "tab-history", "tab-more"], presses=120)
    phone.find_element(By.ID, "home-scan").send_keys(Keys.ENTER)
    screen(phone, "checkin")
    go(phone, "home")


def test_a_declaration_gives_the_72_hour_pass(site, phone):
    click(phone, "home-declare")
    screen(phone, "declare")
    assert phone.find_element(By.ID, "d-personal_id").get_attribute("value") == AN_ID
    assert phone.find_element(By.ID, "d-full_name").get_attribute("value") == "Nguyễn Văn An"
    assert phone.find_element(By.ID, "d-sex").get_attribute("value") == "M"
    click(phone, "d-cough")
    # Without a place of departure the form names the field that is missing.
    click(phone, "declare-submit")
    form_errors(phone, "declare-form")
    pick(phone, "d-origin-picker", "91", site["district"], "30730")
    fill(phone, "d-origin_address", "12 Trần Phú")
    pick(phone, "d-destination-picker", "01", "001", "00004")
    fill(phone, "d-destination_address", "1 Đinh Tiên Hoàng")
    fill(phone, "d-vehicle", "68A-123.45")
    accessible(phone)
    click(phone, "declare-submit")
    text_of(phone, "pass-ok", "ĐÃ KHAI BÁO / DECLARED")
    qr = phone.find_element(By.ID, "pass-qr")
    assert phone.execute_script("return arguments[0].naturalWidth", qr) > 0
    assert phone.find_element(By.ID, "pass-text").get_attribute("textContent").startswith("VNP1:")
    assert phone.find_element(By.ID, "pass-expires").text
    accessible(phone)
    screenshot(phone, "citizen-pass.png")
    # Home now shows the pass with its expiry instead of "no pass".
    go(phone, "home")
    wait(phone).until(EC.visibility_of_element_located((By.ID, "home-pass-qr")))
    assert phone.find_element(By.ID, "home-pass-expires").text
    assert not phone.find_elements(By.ID, "no-pass")


def test_check_in_at_a_venue(site, phone):
    go(phone, "checkin")
    assert "Nguyễn Văn An" in phone.find_element(By.ID, "checkin-person").text
    tab_through(phone, ["camera", "picture", "venue_code", "checkin-submit", "checkout-submit", "tab-checkin"])
    fill(phone, "venue_code", "not a venue code")
    click(phone, "checkin-submit")
    form_errors(phone, "checkin-form")
    # The poster's text, pasted (the camera and the picture reader fill the same field).
    fill(phone, "venue_code", site["venue_code"])
    click(phone, "checkin-submit")
    text_of(phone, "checkin-done", "ĐÃ VÀO / CHECKED IN")
    assert "Chợ Rạch Giá" in phone.find_element(By.ID, "checkin-result").text
    assert not phone.find_elements(By.ID, "venue_code-error")
    accessible(phone)
    screenshot(phone, "citizen-checkin.png")


def test_the_certificate_downloads(site, phone):
    go(phone, "home")
    wait(phone).until(EC.visibility_of_element_located((By.ID, "certificate-qr")))
    links = {k: phone.find_element(By.ID, k).get_attribute("href") for k in ("certificate-print", "certificate-fhir")}
    assert links["certificate-print"].endswith(f"/api/v1/me/certificate.html?person={AN_ID}")
    assert links["certificate-fhir"].endswith(f"/api/v1/me/fhir?person={AN_ID}")
    fetched = phone.execute_async_script("""const done = arguments[arguments.length - 1];
        Promise.all([...arguments].slice(0, 2).map((u) => fetch(u, {credentials: "same-origin"})
          .then(async (r) => [r.status, r.headers.get("content-type"), await r.text()])))
          .then(done, (e) => done(String(e)));""", links["certificate-print"], links["certificate-fhir"])
    (page_status, page_type, page), (fhir_status, fhir_type, fhir) = fetched
    assert page_status == 200 and page_type.startswith("text/html") and "Nguyễn Văn An" in page
    assert fhir_status == 200 and "json" in fhir_type
    assert json.loads(fhir)["resourceType"] in ("Bundle", "Immunization")
    # The printable page, opened as the link does, at phone width.
    phone.get(links["certificate-print"])
    wait(phone).until(EC.text_to_be_present_in_element((By.TAG_NAME, "body"), "Nguyễn Văn An"))
    screenshot(phone, "citizen-certificate.png")
    phone.get(site["base"] + "/app/#/home")
    screen(phone, "home")


def test_a_correction_request_is_followed_in_the_history(site, phone):
    go(phone, "history")
    first = wait(phone).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#history-vaccinations li")))
    vaccination = first.get_attribute("data-vaccination")
    assert len(phone.find_elements(By.CSS_SELECTOR, "#history-vaccinations li")) == 2
    assert "Chợ Rạch Giá" in phone.find_element(By.ID, "history-checkins").text
    assert phone.find_elements(By.CSS_SELECTOR, "#history-declarations li")
    tab_through(phone, ["report-" + vaccination, "tab-history"], presses=120)
    report = click(phone, "report-" + vaccination)
    assert report.get_attribute("aria-expanded") == "true"
    fill(phone, "msg-" + vaccination, "Sai lô vắc xin: lô đúng là AZ0702")
    accessible(phone)
    click(phone, "send-" + vaccination)
    row = wait(phone).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#history-corrections li")))
    assert row.get_attribute("data-handled") == "false"
    assert "Đang chờ xử lý / Open" in row.text and "AZ0702" in row.text
    assert "Đang báo sai sót / Error reported" in phone.find_element(
        By.CSS_SELECTOR, f"#history-vaccinations li[data-vaccination='{vaccination}']").text
    accessible(phone)
    phone.execute_script("document.getElementById('history-corrections').scrollIntoView({block: 'center'})")
    screenshot(phone, "citizen-history.png")


def test_a_family_member_is_added_and_shown(site, phone):
    go(phone, "more")
    click(phone, "to-household")
    screen(phone, "household")
    wait(phone).until(EC.presence_of_element_located((By.CSS_SELECTOR, f"#people li[data-person='{AN_ID}']")))
    # Bình lives in another household: refused, by field.
    for name, value in (("personal_id", BINH_ID), ("full_name", "Trần Thị Bình"), ("birth_date", "1995-11-20")):
        fill(phone, "m-" + name, value)
    click(phone, "member-submit")
    form_errors(phone, "member-form")
    for name, value in (("personal_id", CUC_ID), ("full_name", "Nguyễn Thị Cúc"), ("birth_date", "01/06/2015")):
        fill(phone, "m-" + name, value)
    click(phone, "member-submit")
    text_of(phone, "member-added", "Nguyễn Thị Cúc")
    cuc = phone.find_element(By.CSS_SELECTOR, f"#people li[data-person='{CUC_ID}']")
    assert "Con / Child" in cuc.text
    assert phone.find_element(By.ID, "switcher").is_displayed()
    accessible(phone)
    screenshot(phone, "citizen-household.png")
    # Her card: no doses, no certificate.
    click(phone, "show-" + CUC_ID)
    screen(phone, "home")
    text_of(phone, "card-name", "Nguyễn Thị Cúc")
    assert text_of(phone, "colour", "Chưa tiêm") == "Chưa tiêm / None"
    assert phone.find_element(By.ID, "certificate-note").text
    accessible(phone)
    screenshot(phone, "citizen-home-child.png")
    # Back to An through the switcher.
    Select(phone.find_element(By.ID, "person")).select_by_value(AN_ID)
    text_of(phone, "card-name", "Nguyễn Văn An")


def test_the_privacy_page_names_roles_never_officers(site, phone):
    go(phone, "more")
    click(phone, "to-privacy")
    screen(phone, "privacy")
    holdings = wait(phone).until(EC.presence_of_element_located((By.ID, "holdings")))
    assert holdings.find_elements(By.CSS_SELECTOR, "li")
    text = phone.find_element(By.ID, "privacy").text
    assert "Lưu giữ" in text and "Kept" in text
    for username in (SIGNER, OWNER, POLICE):
        assert username not in phone.page_source
    accessible(phone)
    screenshot(phone, "citizen-privacy.png")
    assert phone.find_element(By.ID, "accesses").is_displayed()
    # The person's own use of the app is counted, not listed among the accesses.
    own = phone.find_element(By.ID, "own-accesses").text
    assert re.search(r"\d+ lượt", own), own
    accessible(phone)
    phone.execute_script("document.getElementById('accesses').scrollIntoView({block: 'start'})")
    screenshot(phone, "citizen-privacy-accesses.png")


def test_log_out(site, phone):
    go(phone, "more")
    accessible(phone)
    tab_through(phone, ["to-household", "to-privacy", "logout"])
    click(phone, "logout")
    screen(phone, "login")
    status = phone.execute_async_script("""const done = arguments[arguments.length - 1];
        fetch("/api/v1/me", {credentials: "same-origin"}).then((r) => done(r.status), (e) => done(String(e)));""")
    assert status == 401
    phone.get(site["base"] + "/app/#/history")
    screen(phone, "login")


def test_an_officer_rebinds_a_lost_phone(site, browser, phone):
    base = site["base"]
    login(browser, base, username=POLICE, next_page="/lookup")
    browser.find_element(By.ID, "query").send_keys(AN_ID)
    browser.find_element(By.ID, "lookup-submit").click()
    result_text(browser, "Nguyễn Văn An")
    wait(browser).until(EC.visibility_of_element_located((By.ID, "rebind-form")))
    browser.find_element(By.ID, "rebind-phone").send_keys(NEW_PHONE)
    browser.find_element(By.ID, "rebind-reason").send_keys("Mất điện thoại, đã đối chiếu CCCD tại trụ sở")
    browser.find_element(By.ID, "rebind-submit").click()
    assert "222" in result_text(browser, "Đã gắn lại", element_id="rebind-result")
    assert_nfc(browser)
    browser.execute_script("document.getElementById('rebind-result').scrollIntoView({block: 'end'})")
    screenshot(browser, "lookup-rebind.png")
    # The old phone no longer logs in; the new one does.
    phone.get(base + "/app/#/login")
    screen(phone, "login")
    fill(phone, "li-personal_id", AN_ID)
    fill(phone, "li-phone", AN_PHONE)
    click(phone, "login-submit")
    form_errors(phone, "login-form")
    before = len(outbox_lines(site["outbox"]))
    fill(phone, "li-phone", NEW_PHONE)
    click(phone, "login-submit")
    screen(phone, "otp")
    fill(phone, "otp-code", code_sent(site["outbox"], NEW_PHONE, before))
    click(phone, "otp-submit")
    screen(phone, "home")
    text_of(phone, "colour", "Xanh / Green")
    # The police officer's look-up and re-binding show on An's privacy page by role and commune.
    go(phone, "more")
    click(phone, "to-privacy")
    police = wait(phone).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#accesses li[data-role='commune_police']")))
    text = phone.find_element(By.ID, "accesses").text
    assert "Công an xã · Phường Vĩnh Thanh Vân" in police.text and "Mục đích: " in police.text
    assert "Gắn lại số điện thoại / Re-bound the phone" in text
    assert POLICE not in phone.page_source
    accessible(phone)
    phone.execute_script("arguments[0].scrollIntoView({block: 'start'})", police)
    screenshot(phone, "citizen-privacy-officers.png")
