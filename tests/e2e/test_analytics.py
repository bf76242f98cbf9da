"""The analytics pages in headless Chromium, on a synthetic Kiên Giang (3,000 citizens, their shots
without noise, every record signed): the coverage dashboard's numbers equal the API's and what this
file computes on its own from the generated CSV files; the ministry analyst drills down from the
national map to a commune; the exports download and match the JSON; officers asking for an area
outside their jurisdiction see the refusal; the supervision and travel-flow pages show the API's rows.
"""
import csv
import datetime
import json
import urllib.error
import urllib.request
from collections import Counter, defaultdict

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

from conftest import PASSWORD, api, assert_nfc, key_env, login, result_text, run, screenshot, serving, wait

PROVINCE, HEALTH, ANALYST, DISTRICT_HEALTH, CITIZEN = "91", "yte.tinh91", "phantich.bo", "yte.huyen", "dan.kg"
DAY = "2021-11-23"
# Minimum interval after a dose and primary series length per vaccine (crates/domain/src/vaccine.rs).
VACCINES = {"EU/1/21/1529": (28, 2), "EU/1/20/1528": (21, 2), "EU/1/20/1507": (28, 2), "BBIBP-CorV": (21, 2),
            "Sputnik-V": (21, 2), "Abdala": (14, 3), "Hayat-Vax": (21, 2), "EU/1/20/1525": (0, 1)}
VIETNAM = datetime.timezone(datetime.timedelta(hours=7))


def count(n):
    """The page's count format (vi-VN): 1163941 → 1.163.941."""
    return f"{n:,}".replace(",", ".")


def rate(r):
    """The page's rate format: 0.97312 → 97,31 %; None → —."""
    return "—" if r is None else f"{r * 100:.2f}".replace(".", ",") + " %"


def band(birth_year):
    """Birth-year cohorts of 2021: the bands a person counts in (adults and 65+ overlap)."""
    if birth_year >= 2010:
        return ["under_12"]
    if birth_year >= 2004:
        return ["age_12_17"]
    return ["adults", "age_65_plus"] if birth_year <= 1956 else ["adults"]


def full_on(doses):
    """The day the primary series completed, by the rules of crates/domain/src/status.rs
    (duplicates and doses below the minimum interval do not count; a dose numbered above the
    doses before it blocks completion). doses: [(day, dose_number, vaccine, row)]."""
    counted, missing = [], False
    for dose in sorted(doses):
        day, number, vaccine, _ = dose
        if counted:
            prev = counted[-1]
            if prev[0] == day and prev[2] == vaccine:
                continue
            if (day - prev[0]).days < VACCINES[prev[2]][0]:
                continue
        if number > len(counted) + 1:
            missing = True
        counted.append(dose)
    series = VACCINES[counted[0][2]][1] if counted else 1
    return counted[series - 1][0] if counted and not missing and len(counted) >= series else None


def expected_coverage(people_csv, shots_csv, day, communes=None):
    """Population, dose-1 people, fully vaccinated people and doses given on `day` by permanent
    residence, per age band, computed from the generated files alone."""
    day = datetime.date.fromisoformat(day)
    people = {}
    with open(people_csv, encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if communes is None or row["permanent_commune_code"] in communes:
                people[row["personal_id"]] = band(int(row["birth_date"][:4]))
    shots = defaultdict(list)
    with open(shots_csv, encoding="utf-8") as f:
        for i, row in enumerate(csv.DictReader(f)):
            if row["personal_id"] in people:
                at = datetime.datetime.fromisoformat(row["administered_at"]).astimezone(VIETNAM).date()
                shots[row["personal_id"]].append((at, int(row["dose_number"]), row["vaccine_code"], i))
    out = {k: Counter() for k in ("population", "dose1", "full")}
    doses, by_vaccine = 0, Counter()
    for pid, bands in people.items():
        mine = shots.get(pid, [])
        done = full_on(mine)
        for key, counts in (("population", True), ("dose1", any(d[1] == 1 and d[0] <= day for d in mine)),
                            ("full", done is not None and done <= day)):
            if counts:
                out[key]["all"] += 1
                for b in bands:
                    out[key][b] += 1
        for d in mine:
            if d[0] <= day:
                doses += 1
                by_vaccine[d[2]] += 1
    out["doses"], out["by_vaccine"] = doses, by_vaccine
    return out


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    work = tmp_path_factory.mktemp("analytics")
    url = f"sqlite:{work / 'analytics.db'}"
    people, shots = work / "people.csv", work / "shots.csv"
    run("generate", "citizens", "--province", PROVINCE, "--count", "3000", "--seed", "7", "--out", str(people))
    run("generate", "vaccinations", "--citizens", str(people), "--seed", "7", "--noise", "0", "--duplicates", "0",
        "--out", str(shots), "--truth", str(work / "truth.csv"))
    run("import", "citizens", str(people), "--database-url", url, "--no-progress")
    stats = work / "shots-stats.json"
    run("import", "vaccinations", str(shots), "--database-url", url, "--no-progress", "--stats-json", str(stats))
    report = json.loads(stats.read_text())
    # Without noise every shot links to its citizen on its own: the registry and the store agree.
    assert report["inserted"] == report["auto"] > 0 and report["review"] == report["unmatched"] == 0, report
    for args in (["root"], ["province", PROVINCE], ["pass-signer"]):
        run("keys", *args, "--database-url", url, env=key_env())
    run("vaccination", "sign", "--area", PROVINCE, "--database-url", url, env=key_env())
    for username, role, jurisdiction in [(HEALTH, "province_health", PROVINCE), (ANALYST, "ministry_analyst", "VN"),
                                         (DISTRICT_HEALTH, "district_health", "001"), (CITIZEN, "citizen", PROVINCE)]:
        run("user", "add", "--database-url", url, "--username", username, "--role", role,
            "--jurisdiction", jurisdiction, input=(PASSWORD + "\n").encode())
    with serving(url) as base:
        yield {"base": base, "people": people, "shots": shots}


def token(base, username):
    return api(base, "/api/v1/auth/login", {"username": username, "password": PASSWORD})["token"]


def get(base, path, username):
    """(status, JSON body) of a GET as `username`, errors included."""
    req = urllib.request.Request(base + path)
    req.add_header("Authorization", "Bearer " + token(base, username))
    try:
        with urllib.request.urlopen(req, timeout=30) as res:
            return res.status, json.loads(res.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def post(base, path, body, tok):
    """A JSON POST that fails with the API's own error message."""
    try:
        return api(base, path, body, token=tok)
    except urllib.error.HTTPError as e:
        raise AssertionError(f"POST {path}: {e.code} {e.read().decode()}") from None


def text(driver, element_id):
    return driver.find_element(By.ID, element_id).text


def open_page(driver, base, path):
    """Opens an analytics page and waits until every part of it has loaded."""
    driver.get(base + path)
    ready(driver)


def ready(driver):
    """Waits until the current analytics page has loaded every part, with no error shown."""
    wait(driver, 30).until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "1"
                           or d.find_element(By.ID, "result").text)
    assert not driver.find_element(By.ID, "result").text, driver.find_element(By.ID, "result").text


def fetch_in_page(driver, href, binary=False):
    """Downloads a link with the page's session cookie: (status, content type, disposition, body)."""
    return driver.execute_async_script("""
        const [href, binary, done] = arguments;
        fetch(href, {credentials: "same-origin"}).then(async (r) => {
          const body = binary ? Array.from(new Uint8Array(await r.arrayBuffer()).slice(0, 4)) : await r.text();
          done([r.status, r.headers.get("content-type"), r.headers.get("content-disposition"), body]);
        }).catch((e) => done([0, "", "", String(e)]));""", href, binary)


def test_province_dashboard_equals_the_api_and_the_registry(site, browser):
    base = site["base"]
    status, cov = get(base, f"/api/v1/coverage?area={PROVINCE}&date={DAY}&basis=residence", HEALTH)
    assert status == 200, cov
    t = cov["total"]
    mine = expected_coverage(site["people"], site["shots"], DAY)
    # The API against the generated files.
    assert cov["area"]["code"] == PROVINCE and cov["area"]["name"].endswith("Kiên Giang")
    for key in ("population", "dose1", "full"):
        for b in ("all", "under_12", "age_12_17", "adults", "age_65_plus"):
            assert t[key][b] == mine[key][b], (key, b, t[key][b], mine[key][b])
    assert t["doses"]["total"] == mine["doses"]
    assert t["doses"]["by_vaccine"] == dict(mine["by_vaccine"])
    assert t["rate_dose1"]["adults"] == pytest.approx(mine["dose1"]["adults"] / mine["population"]["adults"])
    assert t["rate_full"]["adults"] == pytest.approx(mine["full"]["adults"] / mine["population"]["adults"])
    assert sum(u["population"]["all"] for u in cov["units"]) == t["population"]["all"]

    login(browser, base, username=HEALTH, next_page="/analytics")
    open_page(browser, base, f"/analytics?area={PROVINCE}&date={DAY}&basis=residence")
    # The page against both.
    assert text(browser, "area-name") == cov["area"]["name"]
    assert text(browser, "headline-population") == count(mine["population"]["all"]) == count(t["population"]["all"])
    assert text(browser, "headline-dose1") == count(mine["dose1"]["all"]) == count(t["dose1"]["all"])
    assert text(browser, "headline-dose1-rate") == rate(mine["dose1"]["adults"] / mine["population"]["adults"])
    assert text(browser, "headline-dose1-rate") == rate(t["rate_dose1"]["adults"])
    assert text(browser, "headline-full") == count(mine["full"]["all"]) == count(t["full"]["all"])
    assert text(browser, "headline-full-rate") == rate(mine["full"]["adults"] / mine["population"]["adults"])
    assert text(browser, "headline-full-rate") == rate(t["rate_full"]["adults"])
    assert text(browser, "headline-booster") == count(t["booster"]["all"])
    assert text(browser, "headline-doses") == count(mine["doses"]) == count(t["doses"]["total"])
    assert "." in text(browser, "headline-population") and "," in text(browser, "headline-dose1-rate")
    # Child units: one row per district, in the API's order, each a drill-down link.
    rows = browser.find_elements(By.CSS_SELECTOR, "#units tbody tr[data-code]")
    assert [r.get_attribute("data-code") for r in rows] == [u["code"] for u in cov["units"]] and len(rows) == 15
    for row, unit in zip(rows, cov["units"]):
        cells = row.find_elements(By.TAG_NAME, "td")
        assert cells[1].text == unit["name"] and cells[2].text == count(unit["population"]["all"])
        assert cells[3].text == count(unit["dose1"]["all"]) and cells[4].text == rate(unit["rate_dose1"]["adults"])
        assert f"area={unit['code']}" in cells[1].find_element(By.TAG_NAME, "a").get_attribute("href")
    # Charts: one bar a day whose doses add up to the total (the campaign began on 2021-03-08),
    # age bands and vaccine mix from the same answer.
    bars = browser.find_elements(By.CSS_SELECTOR, "#chart-days rect[data-date]")
    assert bars[-1].get_attribute("data-date") == DAY
    assert sum(int(b.get_attribute("data-value")) for b in bars) == mine["doses"]
    assert browser.find_elements(By.CSS_SELECTOR, "#chart-days polyline.dose1")
    adults = browser.find_element(By.CSS_SELECTOR, "#chart-ages rect[data-key='adults:dose1']")
    assert float(adults.get_attribute("data-value")) == pytest.approx(t["rate_dose1"]["adults"])
    mix = {r.get_attribute("data-key"): int(r.get_attribute("data-value"))
           for r in browser.find_elements(By.CSS_SELECTOR, "#chart-vaccines rect[data-key]")}
    assert mix == dict(mine["by_vaccine"])
    # The map highlights the province with its rate and shows the boundaries' attribution.
    paths = browser.find_elements(By.CSS_SELECTOR, "#map path[data-code]")
    assert len(paths) == 63
    kg = browser.find_element(By.CSS_SELECTOR, "#map path[data-code='91']")
    assert "current" in kg.get_attribute("class")
    assert float(kg.get_attribute("data-rate")) == pytest.approx(t["rate_dose1"]["adults"])
    assert "CC BY-SA 4.0" in text(browser, "map-attribution") and "Open Development Mekong" in text(browser, "map-attribution")
    # Lowest coverage communes and doses due, as the API ranks them.
    _, low = get(base, f"/api/v1/coverage/lowest?area={PROVINCE}&date={DAY}&metric=dose1&limit=10", HEALTH)
    items = browser.find_elements(By.CSS_SELECTOR, "#lowest li[data-code]")
    assert [i.get_attribute("data-code") for i in items] == [u["code"] for u in low["units"]] and items
    assert rate(low["units"][0]["rate"]) in items[0].text
    _, due = get(base, f"/api/v1/coverage/due?area={PROVINCE}&date={DAY}", HEALTH)
    assert [r.get_attribute("data-code") for r in browser.find_elements(By.CSS_SELECTOR, "#due tbody tr[data-code]")] \
        == [u["code"] for u in due["units"]]
    assert count(due["total"]["due_dose"]) in text(browser, "due-total")
    assert_nfc(browser)
    screenshot(browser, "analytics-province.png")

    # Exports: the same query with format=csv / parquet, downloaded with the page's session.
    href = browser.find_element(By.ID, "export-csv").get_attribute("href")
    assert f"area={PROVINCE}" in href and f"date={DAY}" in href and href.endswith("&format=csv")
    status, ctype, disposition, body = fetch_in_page(browser, href)
    assert status == 200 and ctype.startswith("text/csv"), (status, ctype, body[:300])
    assert disposition and "attachment" in disposition
    table = list(csv.DictReader(body.splitlines()))
    by_code = {r["code"]: r for r in table}
    for unit in cov["units"]:
        row = by_code[unit["code"]]
        assert row["name"] == unit["name"]
        for field, value in csv_values(unit).items():
            assert row[field] == value, (unit["code"], field, row[field], value)
        assert float(row["rate_dose1_adults"]) == pytest.approx(unit["rate_dose1"]["adults"], abs=1e-6)
    status, ctype, _, magic = fetch_in_page(browser, browser.find_element(By.ID, "export-parquet").get_attribute("href"), binary=True)
    assert status == 200 and bytes(magic) == b"PAR1", (status, ctype, magic)


def csv_values(unit):
    """The CSV cells a JSON row must match."""
    return {"population": str(unit["population"]["all"]), "population_adults": str(unit["population"]["adults"]),
            "dose1": str(unit["dose1"]["all"]), "dose1_adults": str(unit["dose1"]["adults"]),
            "full": str(unit["full"]["all"]), "booster": str(unit["booster"]["all"]), "doses": str(unit["doses"]["total"])}


def click_inside(driver, element):
    """A real mouse click on a point inside a (possibly many-part) SVG shape."""
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    dx, dy = driver.execute_script("""
        const el = arguments[0], r = el.getBoundingClientRect();
        const inside = (x, y) => [-3, 0, 3].every((a) => [-3, 0, 3].every((b) => document.elementFromPoint(x + a, y + b) === el));
        for (let i = 1; i < 40; i++) for (let j = 1; j < 40; j++) {
          const x = Math.round(r.left + r.width * i / 40), y = Math.round(r.top + r.height * j / 40);
          if (inside(x, y)) return [x - Math.round(r.left + r.width / 2), y - Math.round(r.top + r.height / 2)];
        }
        return null;""", element)
    ActionChains(driver).move_to_element_with_offset(element, int(dx), int(dy)).click().perform()


def test_the_analyst_drills_down_from_the_national_map_to_a_commune(site, browser):
    base = site["base"]
    status, nation = get(base, f"/api/v1/coverage?date={DAY}", ANALYST)
    assert status == 200 and nation["area"]["code"] == "VN" and len(nation["units"]) == 63, nation.get("area")
    login(browser, base, username=ANALYST, next_page="/analytics")
    open_page(browser, base, f"/analytics?date={DAY}")
    assert "Toàn quốc" in text(browser, "area-name")
    assert text(browser, "headline-population") == count(nation["total"]["population"]["all"])
    rates = {p.get_attribute("data-code"): p.get_attribute("data-rate")
             for p in browser.find_elements(By.CSS_SELECTOR, "#map path[data-code]")}
    assert len(rates) == 63
    kg = next(u for u in nation["units"] if u["code"] == PROVINCE)
    assert float(rates[PROVINCE]) == pytest.approx(kg["rate_dose1"]["adults"])
    # Provinces without registry data have no rate (grey), not 0 %.
    hanoi = next(u for u in nation["units"] if u["code"] == "01")
    assert rates["01"] == "" and (hanoi["rate_dose1"] or {}).get("adults") is None
    legend = text(browser, "map-legend")
    assert "95,00 %" in legend and "Không có số liệu" in legend
    assert_nfc(browser)
    browser.execute_script("document.getElementById('map-section').scrollIntoView()")
    screenshot(browser, "analytics-nation-map.png")

    click_inside(browser, browser.find_element(By.CSS_SELECTOR, "#map path[data-code='91']"))
    wait(browser).until(EC.url_contains("area=91"))
    ready(browser)
    assert text(browser, "headline-population") == count(kg["population"]["all"])
    _, pcov = get(base, f"/api/v1/coverage?area={PROVINCE}&date={DAY}", ANALYST)
    district = max(pcov["units"], key=lambda u: u["population"]["all"])
    browser.find_element(By.CSS_SELECTOR, f"#units tr[data-code='{district['code']}'] a").click()
    wait(browser).until(EC.url_contains(f"area={district['code']}"))
    ready(browser)
    assert text(browser, "area-name") == district["name"]
    assert text(browser, "headline-population") == count(district["population"]["all"])
    assert "Kiên Giang" in text(browser, "breadcrumb")
    assert not browser.find_elements(By.ID, "map") or not browser.find_element(By.ID, "map-section").is_displayed()

    _, dcov = get(base, f"/api/v1/coverage?area={district['code']}&date={DAY}", ANALYST)
    commune = max(dcov["units"], key=lambda u: u["population"]["all"])
    browser.find_element(By.CSS_SELECTOR, f"#units tr[data-code='{commune['code']}'] a").click()
    wait(browser).until(EC.url_contains(f"area={commune['code']}"))
    ready(browser)
    crumbs = browser.find_elements(By.CSS_SELECTOR, "#breadcrumb [data-code]")
    assert [c.get_attribute("data-code") for c in crumbs] == ["VN", PROVINCE, district["code"], commune["code"]]
    assert [c.tag_name for c in crumbs] == ["a", "a", "a", "span"]
    mine = expected_coverage(site["people"], site["shots"], DAY, communes={commune["code"]})
    assert text(browser, "headline-population") == count(mine["population"]["all"]) == count(commune["population"]["all"])
    assert text(browser, "headline-dose1") == count(mine["dose1"]["all"])
    assert text(browser, "headline-doses") == count(mine["doses"])
    assert text(browser, "headline-dose1-rate") == rate(mine["dose1"]["adults"] / mine["population"]["adults"])
    assert_nfc(browser)
    screenshot(browser, "analytics-commune.png")
    # Back up through the breadcrumb to the district.
    crumbs[2].click()
    wait(browser).until(EC.url_contains(f"area={district['code']}"))


def test_areas_outside_the_jurisdiction_are_refused(site, browser):
    base = site["base"]
    status, refusal = get(base, f"/api/v1/coverage?area=01&date={DAY}", HEALTH)
    assert status == 403, refusal
    login(browser, base, username=HEALTH, next_page="/analytics")
    browser.get(base + f"/analytics?area=01&date={DAY}")
    assert refusal["message_en"] in result_text(browser, refusal["message_vi"])
    assert "bad" in browser.find_element(By.ID, "result").get_attribute("class")
    assert text(browser, "headline-population") == "—"
    screenshot(browser, "analytics-refused.png")

    status, refusal = get(base, f"/api/v1/coverage?area={PROVINCE}&date={DAY}", DISTRICT_HEALTH)
    assert status == 403, refusal
    login(browser, base, username=DISTRICT_HEALTH, next_page="/analytics")
    browser.get(base + f"/analytics?area={PROVINCE}&date={DAY}")
    assert refusal["message_en"] in result_text(browser, refusal["message_vi"])
    assert_nfc(browser)


def test_supervision_ranks_the_communes(site, browser):
    base = site["base"]
    status, sup = get(base, f"/api/v1/analytics/supervision?area={PROVINCE}&level=commune", HEALTH)
    assert status == 200, sup
    with open(site["shots"], encoding="utf-8") as f:
        shots = sum(1 for _ in csv.DictReader(f))
    # Every record was signed when the fixture ran, today: inside the default period.
    assert sup["total"]["signed"] == shots and sup["total"]["waiting_review"] == 0, sup["total"]
    login(browser, base, username=HEALTH, next_page="/analytics")
    open_page(browser, base, f"/supervision?area={PROVINCE}&level=commune")
    rows = browser.find_elements(By.CSS_SELECTOR, "#units tbody tr[data-code]")
    assert [r.get_attribute("data-code") for r in rows] == [u["code"] for u in sup["units"]] and rows
    first = rows[0].find_elements(By.TAG_NAME, "td")
    unit = sup["units"][0]
    assert first[0].text == str(unit["rank"]) and first[2].text == unit["name"]
    assert first[3].text == count(unit["waiting_review"]) and first[4].text == count(unit["signed"])
    assert first[5].text == rate(unit["auto_share"])
    foot = browser.find_element(By.CSS_SELECTOR, "#units tfoot tr").find_elements(By.TAG_NAME, "td")
    assert foot[4].text == count(sup["total"]["signed"])
    bars = browser.find_elements(By.CSS_SELECTOR, "#chart-signed rect[data-date]")
    assert sum(int(b.get_attribute("data-value")) for b in bars) == sum(d["signed"] for d in sup["days"])
    assert_nfc(browser)
    screenshot(browser, "supervision.png")


def test_flows_show_the_declarations(site, browser):
    base = site["base"]
    today = datetime.datetime.now(VIETNAM).date()
    with open(site["people"], encoding="utf-8") as f:
        people = list(csv.DictReader(f))
    origin = people[0]["permanent_commune_code"]
    health = token(base, HEALTH)
    post(base, "/api/v1/outbreak-areas", {"unit_code": origin, "starts_on": (today - datetime.timedelta(days=1)).isoformat(),
                                          "ends_on": (today + datetime.timedelta(days=14)).isoformat()}, health)
    citizen = token(base, CITIZEN)
    travellers = [p for p in people if p["permanent_commune_code"] == origin][:3]
    for p in travellers:
        post(base, "/api/v1/declarations", {
            "personal_id": p["personal_id"], "full_name": p["full_name"], "birth_date": p["birth_date"], "sex": p["sex"],
            "origin_commune_code": origin, "origin_address": p["permanent_address"] or "1 Trần Phú",
            "destination_commune_code": "00004", "destination_address": "1 Đinh Tiên Hoàng",
            "travel_date": today.isoformat(), "transport": "car", "vehicle": "68A-123.45",
            "visited_outbreak_area": True}, citizen)
    period = f"from={(today - datetime.timedelta(days=7)).isoformat()}&to={today.isoformat()}"
    status, flows = get(base, f"/api/v1/analytics/flows?area=VN&level=province&{period}", ANALYST)
    assert status == 200, flows
    kg_hn = [f for f in flows["flows"] if f["origin"]["code"] == PROVINCE and f["destination"]["code"] == "01"]
    assert kg_hn and kg_hn[0]["declarations"] == len(travellers), flows["flows"]
    login(browser, base, username=ANALYST, next_page="/analytics")
    open_page(browser, base, f"/flows?area=VN&level=province&{period}")
    cell = browser.find_element(By.CSS_SELECTOR, f"#matrix td[data-origin='{PROVINCE}'][data-destination='01']")
    assert cell.text.startswith(count(len(travellers)))
    assert len(browser.find_elements(By.CSS_SELECTOR, "#matrix tbody tr[data-code]")) == len({f["origin"]["code"] for f in flows["flows"]})
    arrivals = [(li.get_attribute("data-code"), li.text) for li in browser.find_elements(By.CSS_SELECTOR, "#arrivals li[data-code]")]
    assert [a[0] for a in arrivals] == [a["code"] for a in flows["outbreak_arrivals"]]
    href = browser.find_element(By.ID, "export-csv").get_attribute("href")
    assert href.endswith("&format=csv") and "level=province" in href
    status, ctype, _, body = fetch_in_page(browser, href)
    assert status == 200 and ctype.startswith("text/csv"), (status, ctype, body[:300])
    assert len(list(csv.DictReader(body.splitlines()))) == len(flows["flows"])
    assert_nfc(browser)
    screenshot(browser, "flows.png")
