"""Helpers for the render, evidence and browser tests.

- :func:`start_chromium` starts Debian's headless chromium through chromedriver (selenium) with no
  network-touching background services and a fresh profile;
- :func:`write_sample` writes a tiny hand-made data directory with planted rings (a card gang at a
  pharmacy with one device, a trace-code diversion chain, an impersonation by phone) and hostile
  names, and returns it with a :class:`graphkit.rings.RingsDocument` describing those rings.
"""

from __future__ import annotations

import csv
import shutil
import tempfile
from pathlib import Path

from graphkit.load import input_fingerprint
from graphkit.rings import Evidence, Member, Ring, RingsDocument

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"

HOSTILE_IMG = "<img src=x onerror=alert(1)>"
HOSTILE_SCRIPT = "<script>alert(1)</script>"
HOSTILE_PHARMACY = "康宁<b onmouseover=alert(1)>大药房</b>"

#: personal data planted in the sample that must never appear in a masked output
ID_NUMBERS = ["510104199001011234", "510104198502023456", "11010519491231002X",
              "440305200001017890", "510104197703034321", "320102196612120011",
              "510104198808085555", "510104199209096666", "510104196505057777",
              "510104195010108888"]
PHONES = ["13812341234", "13987654321", "13500001111", "15822223333", "17744445555",
          "18666667777", "13388889999", "13612345678", "13712345670", "19900001234"]
NAMES = ["张三", "欧阳娜娜", HOSTILE_IMG, HOSTILE_SCRIPT, "李四", "王小五", "赵六", "司马相如",
         "孙七", "周八"]
ADDRESSES = ["四川省成都市武侯区人民南路四段1号", "四川省成都市武侯区人民南路四段1号",
             "四川省成都市锦江区春熙路9号", "北京市朝阳区建国路88号", "四川省成都市青羊区宽窄巷子3号",
             "江苏省南京市玄武区中山路1号", "四川省成都市武侯区科华北路5号", "四川省成都市成华区建设路2号",
             "四川省成都市金牛区一环路北7号", "四川省成都市高新区天府大道100号"]
#: a 身份证 card (card_type 02) whose card number is its holder's 身份证号
ID_CARD = ID_NUMBERS[8]


def _write(path: Path, header: list[str], rows: list[list]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


def write_sample(data_dir: Path) -> tuple[Path, RingsDocument]:
    """Write the sample data directory and return it with its RingsDocument."""
    d = Path(data_dir)
    d.mkdir(parents=True, exist_ok=True)
    pats = [[f"P{i:03d}", NAMES[i - 1], ID_NUMBERS[i - 1], "M" if i % 2 else "F",
             f"19{60 + i}-0{1 + i % 9}-15", "510107", "2024-02-01" if i == 10 else "",
             PHONES[i - 1] if i != 2 else PHONES[0], ADDRESSES[i - 1]] for i in range(1, 11)]
    _write(d / "patients.csv", ["patient_id", "name", "id_number", "gender", "birth_date", "region",
                                "death_date", "phone", "address"], pats)
    cards = [[f"C{i:03d}", f"P{i:03d}", "03"] for i in range(1, 11) if i != 9]
    cards.append([ID_CARD, "P009", "02"])
    _write(d / "cards.csv", ["card_id", "patient_id", "card_type"], cards)
    _write(d / "pharmacies.csv", ["pharmacy_id", "name", "region"],
           [["PH01", HOSTILE_PHARMACY, "510107"], ["PH02", "仁和药房", "510104"]])
    _write(d / "institutions.csv", ["institution_id", "name", "level", "ownership", "kind", "region"],
           [["H01", "成都市第九人民医院", "二级", "公立", "医院", "510107"]])
    _write(d / "doctors.csv", ["doctor_id", "name", "institution_id", "department"],
           [["DR01", "钱医生", "H01", "内科"]])
    claims, items = [], []
    n = 0
    # gang: cards C001-C006 swiped at PH01 on device D01 within minutes, on 5 days
    for day in range(1, 6):
        for i in range(1, 7):
            n += 1
            claims.append([f"S{n:04d}", f"P{i:03d}", f"C{i:03d}", "PH01", "", "", "pharmacy",
                           f"2024-03-{day * 3:02d} 09:{i:02d}:00", "", "", "", "300.00", "240.00",
                           "D01", PHONES[0] if i % 2 else ""])
    gang_claims = [c[0] for c in claims]
    # diversion: P007 gets drug at H01 (doctor DR01); trace codes come back at PH02 via P008
    div_claims = []
    for k in range(3):
        n += 1
        claims.append([f"S{n:04d}", "P007", "C007", "H01", "DR01", "", "outpatient",
                       f"2024-04-{k + 1:02d} 10:00:00", "", "", "E11.9", "900.00", "810.00",
                       "", ""])
        div_claims.append(f"S{n:04d}")
        code = f"8{k:019d}"
        items.append([f"I{n:04d}", f"S{n:04d}", "XDRUG1", "胰岛素注射液", "1", "900", "900", code])
        n += 1
        claims.append([f"S{n:04d}", "P008", "C008", "PH02", "", "", "pharmacy",
                       f"2024-04-{k + 10:02d} 15:00:00", "", "", "", "900.00", "700.00", "", ""])
        div_claims.append(f"S{n:04d}")
        items.append([f"I{n:04d}", f"S{n:04d}", "XDRUG1", "胰岛素注射液", "1", "900", "900", code])
    # impersonation: deceased P010's card and P009's 身份证 presented by one phone after death
    imp_claims = []
    for k, (pid, card) in enumerate([("P010", "C010"), ("P009", ID_CARD), ("P010", "C010")]):
        n += 1
        claims.append([f"S{n:04d}", pid, card, "PH02", "", "", "pharmacy",
                       f"2024-05-{k + 1:02d} 11:00:00", "", "", "", "120.00", "100.00", "D02",
                       PHONES[5]])
        imp_claims.append(f"S{n:04d}")
    _write(d / "claims.csv", ["claim_id", "patient_id", "card_id", "facility_id", "doctor_id",
                              "pharmacist_id", "claim_type", "settle_time", "admit_date",
                              "discharge_date", "diagnosis_code", "total_amount", "fund_amount",
                              "device_id", "operator_phone"], claims)
    _write(d / "claim_items.csv", ["item_id", "claim_id", "item_code", "item_name", "quantity",
                                   "unit_price", "amount", "trace_code"], items)
    rings = (
        Ring("gang", 0.93,
             tuple([Member("card", f"C{i:03d}", "swiped card") for i in range(1, 7)]
                   + [Member("pharmacy", "PH01", "colluding pharmacy"),
                      Member("device", "D01", "terminal")]),
             claims=tuple(gang_claims), fund_amount=240.0 * len(gang_claims),
             first_seen="2024-03-03", last_seen="2024-03-15",
             evidence=(Evidence("lockstep_swipes", "负面清单 二(6) 空刷套刷",
                                f"6 cards swiped at PH01 within 10 minutes on 5 days; phone "
                                f"{PHONES[0]} scanned 3 of them; holder {NAMES[0]} "
                                f"({ID_NUMBERS[0]})", 5),
                       Evidence("shared_device", "负面清单 二(6) 空刷套刷",
                                "one terminal D01 for all swipes", 30)),
             ring_id="R0001"),
        Ring("diversion", 0.81,
             (Member("patient", "P007", "mule"), Member("patient", "P008", "reseller"),
              Member("doctor", "DR01", "prescriber"), Member("pharmacy", "PH02", "reseller"),
              *[Member("trace_code", f"8{k:019d}") for k in range(3)]),
             claims=tuple(div_claims), fund_amount=4530.0, first_seen="2024-04-01",
             last_seen="2024-04-12",
             evidence=(Evidence("trace_code_resettled", "负面清单 三(2) 回流药",
                                "3 trace codes settled again at another pharmacy", 3),),
             ring_id="R0002"),
        Ring("impersonation", 0.66,
             (Member("patient", "P010", "deceased holder"), Member("card", ID_CARD, "id card"),
              Member("phone", PHONES[5], "presenting phone"), Member("patient", "P009")),
             claims=tuple(imp_claims), fund_amount=300.0, first_seen="2024-05-01",
             last_seen="2024-05-03",
             evidence=(Evidence("after_death", "负面清单 一(3) 冒用已故人员身份",
                                f"card C010 settled after death; phone {PHONES[5]} presented "
                                f"2 people's cards", 2),),
             ring_id="R0003"),
    )
    doc = RingsDocument(rings=rings, data_dir=str(d), fingerprint=input_fingerprint(d),
                        params={"min_score": 0.5, "seed": 7})
    return d, doc


def write_big(data_dir: Path, n_cards: int = 240, n_pharmacies: int = 20) -> tuple[Path, RingsDocument]:
    """A gang ring whose view has about ``2 * n_cards + n_pharmacies`` nodes."""
    d = Path(data_dir)
    d.mkdir(parents=True, exist_ok=True)
    _write(d / "patients.csv", ["patient_id", "name"],
           [[f"P{i:05d}", f"张{i}"] for i in range(n_cards)])
    _write(d / "cards.csv", ["card_id", "patient_id", "card_type"],
           [[f"C{i:05d}", f"P{i:05d}", "03"] for i in range(n_cards)])
    _write(d / "pharmacies.csv", ["pharmacy_id", "name"],
           [[f"PH{j:03d}", f"药店{j}"] for j in range(n_pharmacies)])
    claims = []
    for i in range(n_cards):
        for k in range(3):
            j = (i * 7 + k * 3) % n_pharmacies
            claims.append([f"S{len(claims):06d}", f"P{i:05d}", f"C{i:05d}", f"PH{j:03d}",
                           "pharmacy", f"2024-0{1 + k}-{1 + i % 28:02d} 10:00:00", "50.0"])
    _write(d / "claims.csv", ["claim_id", "patient_id", "card_id", "facility_id", "claim_type",
                              "settle_time", "fund_amount"], claims)
    ring = Ring("gang", 0.9, tuple([Member("card", f"C{i:05d}") for i in range(n_cards)]
                                   + [Member("pharmacy", f"PH{j:03d}")
                                      for j in range(n_pharmacies)]),
                claims=tuple(c[0] for c in claims), fund_amount=50.0 * len(claims),
                first_seen="2024-01-01", last_seen="2024-03-28", ring_id="R0001")
    return d, RingsDocument(rings=(ring,), data_dir=str(d), fingerprint=input_fingerprint(d))


def browser_missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} not installed (apt-get install chromium)"
    if not Path(CHROMEDRIVER).exists() and not shutil.which("chromedriver"):
        return "chromedriver not installed (apt-get install chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium not installed (pip install selenium)"
    return None


def start_chromium(width: int = 1280, height: int = 900):
    """Start headless chromium via chromedriver; the caller quits it. Returns (driver, profile)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="graphkit-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-dev-shm-usage", "--disable-default-apps", "--disable-extensions",
                 f"--window-size={width},{height}", f"--user-data-dir={profile}"):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver_path = CHROMEDRIVER if Path(CHROMEDRIVER).exists() else shutil.which("chromedriver")
    driver = webdriver.Chrome(service=Service(driver_path), options=opts)
    driver.set_page_load_timeout(60)
    return driver, profile


def write_many_codes(data_dir: Path, n_codes: int = 40) -> tuple[Path, RingsDocument]:
    """A diversion ring: ``n_codes`` packs bought by P1 at H1, all settled again by P2 at PH1,
    plus one pack P1 resold through P3."""
    d = Path(data_dir)
    d.mkdir(parents=True, exist_ok=True)
    _write(d / "patients.csv", ["patient_id", "name"], [["P1", "甲"], ["P2", "乙"], ["P3", "丙"]])
    _write(d / "institutions.csv", ["institution_id", "name"], [["H1", "医院"]])
    _write(d / "pharmacies.csv", ["pharmacy_id", "name"], [["PH1", "药店"]])
    _write(d / "claims.csv", ["claim_id", "patient_id", "facility_id", "claim_type", "settle_time",
                              "fund_amount"],
           [["S1", "P1", "H1", "outpatient", "2024-01-01 09:00:00", "1000"],
            ["S2", "P2", "PH1", "pharmacy", "2024-01-05 09:00:00", "900"],
            ["S3", "P3", "PH1", "pharmacy", "2024-01-06 09:00:00", "30"]])
    codes = [f"8{k:019d}" for k in range(n_codes + 1)]
    items = [[f"I{k}a", "S1", "D1", "药", "1", "25", "25", c] for k, c in enumerate(codes)]
    items += [[f"I{k}b", "S2", "D1", "药", "1", "25", "25", c] for k, c in enumerate(codes[:-1])]
    items.append(["Ilast", "S3", "D1", "药", "1", "25", "25", codes[-1]])
    _write(d / "claim_items.csv", ["item_id", "claim_id", "item_code", "item_name", "quantity",
                                   "unit_price", "amount", "trace_code"], items)
    ring = Ring("diversion", 0.8, (Member("patient", "P1"), Member("patient", "P2"),
                                   Member("patient", "P3"),
                                   *[Member("trace_code", c) for c in codes]),
                claims=("S1", "S2", "S3"), fund_amount=1930.0, ring_id="R0001")
    return d, RingsDocument(rings=(ring,), data_dir=str(d), fingerprint=input_fingerprint(d))


def csp_problems(page: str) -> list[str]:
    """What is wrong with a page's Content-Security-Policy: missing, allowing a fetch, a form
    post or a base URL, or not allowing exactly the page's own inline scripts and styles."""
    import base64
    import hashlib
    import html as html_lib
    import re

    meta = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', page)
    if not meta:
        return ["no Content-Security-Policy meta element"]
    if page.index(meta.group(0)) > min((page.find(t) for t in ("<script", "<style")
                                        if t in page), default=len(page)):
        return ["the policy comes after a script or style element"]
    policy = {}
    for part in html_lib.unescape(meta.group(1)).split(";"):
        name, *values = part.split()
        policy[name] = set(values)

    def hashes(pattern):
        return {"'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
                + "'" for body in re.findall(pattern, page, re.S)}

    scripts = hashes(r"<script>(.*?)</script>") or {"'none'"}
    styles = hashes(r"<style>(.*?)</style>") or {"'none'"}
    problems = []
    for name, want in (("default-src", {"'none'"}), ("form-action", {"'none'"}),
                       ("base-uri", {"'none'"}), ("script-src", scripts), ("style-src", styles)):
        if policy.get(name) != want:
            problems.append(f"{name}: {sorted(policy.get(name, ()))} instead of {sorted(want)}")
    extra = set(policy) - {"default-src", "form-action", "base-uri", "script-src", "style-src"}
    if extra:
        problems.append(f"other directives: {sorted(extra)}")
    return problems
