"""The data contract as data: tables, columns, aliases and types.

This module is the single source of truth for section 1 of the data contract
(``docs/data-contract.md``). The loader validates against it, the synthetic generator writes
headers from it, and ``tests/test_contract.py`` checks it against the document.

Each column has a canonical English name, the Chinese label used in exports (``zh``), the national
医疗保障信息平台 interface field code where one exists (``code``) and any further aliases. Header
matching is case-insensitive and ignores surrounding spaces.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = [
    "Column",
    "Table",
    "TABLES",
    "TABLE_ORDER",
    "REQUIRED_TABLES",
    "MEMBER_TYPES",
    "TYPOLOGIES",
    "ROLE_ZH",
    "role_zh",
    "CLAIM_TYPE_ALIASES",
    "CLAIM_TYPE_WORDS",
    "GENDER_ALIASES",
    "CARD_TYPE_ALIASES",
    "normalise_header",
]

# Column kinds: "id" (string key, kept verbatim), "str", "date", "datetime", "decimal",
# "gender", "claim_type", "card_type".


@dataclass(frozen=True)
class Column:
    name: str
    kind: str = "str"
    zh: str | None = None
    code: str | None = None
    aliases: tuple[str, ...] = ()
    required: bool = False
    references: str | None = None  # "table.column" (or "facility" for institutions|pharmacies)
    pii: bool = False

    @property
    def all_names(self) -> tuple[str, ...]:
        names = [self.name]
        if self.code:
            names.append(self.code)
        if self.zh:
            names.append(self.zh)
        names.extend(self.aliases)
        return tuple(names)


@dataclass(frozen=True)
class Table:
    name: str
    zh: str
    columns: tuple[Column, ...]
    key: str | None = None
    required: bool = False
    notes: str = ""
    _index: dict = field(default_factory=dict, compare=False, repr=False)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def header_map(self) -> dict[str, str]:
        """Normalised alias -> canonical column name."""
        out: dict[str, str] = {}
        for c in self.columns:
            for n in c.all_names:
                out.setdefault(normalise_header(n), c.name)
        return out

    def header_for(self, column: str, style: str) -> str:
        """The header to write for ``column`` in ``style`` (english, chinese or nhsa)."""
        c = self.column(column)
        if style == "english":
            return c.name
        if style == "chinese":
            return c.zh or c.name
        if style == "nhsa":
            return c.code or c.zh or c.name
        raise ValueError(f"unknown header style {style!r} (english, chinese, nhsa)")


def normalise_header(name: object) -> str:
    """A header as matched against the aliases: no BOM, quotes or outer spaces, no trailing unit
    in brackets, camelCase split and spaces or hyphens as underscores, case-folded (``Patient
    ID``, ``patient-id`` and ``patientId`` are all ``patient_id``; ``PSN_NO`` is ``psn_no``;
    ``医疗费总额(元)`` is ``医疗费总额``)."""
    text = str(name).replace("\ufeff", "").strip().strip('"').strip()
    text = _UNIT.sub("", text) or text
    text = _CAMEL.sub("_", text)
    return _SEPARATORS.sub("_", text).casefold()


#: a lower-case letter or digit followed by a capital: where camelCase joins two words
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SEPARATORS = re.compile(r"[\s\-]+")
#: a trailing unit or note in brackets: 金额(元), 数量（盒）, 结算时间[yyyy-mm-dd]
_UNIT = re.compile(r"\s*[(（\[【][^()（）\[\]【】]*[)）\]】]\s*$")


C = Column

TABLES: dict[str, Table] = {
    "patients": Table(
        "patients",
        "参保人员",
        (
            C("patient_id", "id", "人员编号", "psn_no", ("个人编码",), required=True),
            C("name", "str", "姓名", "psn_name", pii=True),
            C("id_number", "str", "身份证号", "certno", ("证件号码",), pii=True),
            C("gender", "gender", "性别", "gend"),
            C("birth_date", "date", "出生日期", "brdy"),
            C("region", "str", "参保地医保区划", "insuplc_admdvs", ("统筹区",)),
            C("death_date", "date", "死亡日期"),
            C("phone", "str", "联系电话", "tel", pii=True),
            C("address", "str", "住址", "addr", pii=True),
        ),
        key="patient_id",
        required=True,
    ),
    "cards": Table(
        "cards",
        "医保凭证",
        (
            C("card_id", "id", "就诊凭证编号", "mdtrt_cert_no", required=True),
            C("patient_id", "id", "人员编号", "psn_no", required=True, references="patients.patient_id"),
            C("card_type", "card_type", "就诊凭证类型", "mdtrt_cert_type"),
        ),
        key="card_id",
        notes="absent: one implicit card per patient, card_id = patient_id",
    ),
    "institutions": Table(
        "institutions",
        "定点医疗机构",
        (
            C("institution_id", "id", "定点医药机构编号", "fixmedins_code", ("机构编码",), required=True),
            C("name", "str", "机构名称", "fixmedins_name"),
            C("level", "str", "医院等级", "hosp_lv"),
            C("ownership", "str", "经营性质", None, ("所有制",)),
            C("kind", "str", "机构类别", None, ("机构类型",)),
            C("region", "str", "所在区划", "admdvs", ("统筹区",)),
        ),
        key="institution_id",
    ),
    "pharmacies": Table(
        "pharmacies",
        "定点零售药店",
        (
            C("pharmacy_id", "id", "定点医药机构编号", "fixmedins_code", ("药店编码",), required=True),
            C("name", "str", "药店名称", "fixmedins_name"),
            C("region", "str", "所在区划", "admdvs", ("统筹区",)),
        ),
        key="pharmacy_id",
    ),
    "doctors": Table(
        "doctors",
        "医保医师",
        (
            C("doctor_id", "id", "开单医生编码", "bilg_dr_codg", ("医师编码",), required=True),
            C("name", "str", "医师姓名", "bilg_dr_name", pii=True),
            C("institution_id", "id", "定点医药机构编号", "fixmedins_code", ("机构编码",),
              references="institutions.institution_id"),
            C("department", "str", "科室名称", "dept_name", ("科室",)),
        ),
        key="doctor_id",
    ),
    "pharmacists": Table(
        "pharmacists",
        "执业药师",
        (
            C("pharmacist_id", "id", "药师编码", None, required=True),
            C("name", "str", "药师姓名", pii=True),
            C("pharmacy_id", "id", "定点医药机构编号", "fixmedins_code", ("药店编码",),
              references="pharmacies.pharmacy_id"),
        ),
        key=None,  # one row per registration: (pharmacist_id, pharmacy_id) is unique
        notes="one row per registration; one pharmacist at several pharmacies is 一证多挂",
    ),
    "claims": Table(
        "claims",
        "结算记录",
        (
            C("claim_id", "id", "结算ID", "setl_id", required=True),
            C("patient_id", "id", "人员编号", "psn_no", required=True, references="patients.patient_id"),
            C("card_id", "id", "就诊凭证编号", "mdtrt_cert_no", references="cards.card_id"),
            C("facility_id", "id", "定点医药机构编号", "fixmedins_code", required=True, references="facility"),
            C("doctor_id", "id", "开单医生编码", "bilg_dr_codg", references="doctors.doctor_id"),
            C("pharmacist_id", "id", "药师编码", references="pharmacists.pharmacist_id"),
            C("claim_type", "claim_type", "医疗类别", "med_type", required=True),
            C("settle_time", "datetime", "结算时间", "setl_time", required=True),
            C("admit_date", "date", "入院日期", "begndate", ("开始日期",)),
            C("discharge_date", "date", "出院日期", "enddate", ("结束日期",)),
            C("diagnosis_code", "str", "诊断编码", "dise_codg"),
            C("total_amount", "decimal", "医疗费总额", "medfee_sumamt"),
            C("fund_amount", "decimal", "基金支付总额", "fund_pay_sumamt", ("hifp_pay",)),
            C("device_id", "id", "终端编号", None, ("设备编号",)),
            C("operator_phone", "str", "扫码手机号", None, pii=True),
        ),
        key="claim_id",
        required=True,
    ),
    "claim_items": Table(
        "claim_items",
        "费用明细",
        (
            C("item_id", "id", "明细流水号", "feedetl_sn"),
            C("claim_id", "id", "结算ID", "setl_id", required=True, references="claims.claim_id"),
            C("item_code", "id", "医疗目录编码", "med_list_codg"),
            C("item_name", "str", "医疗目录名称", "med_list_name", ("项目名称", "药品名称")),
            C("quantity", "decimal", "数量", "cnt"),
            C("unit_price", "decimal", "单价", "pric"),
            C("amount", "decimal", "明细项目费用总额", "det_item_fee_sumamt"),
            C("trace_code", "id", "药品追溯码", "drug_trac_codg"),
        ),
        key="item_id",
    ),
}

#: Load order: every table is loaded after the tables it references.
TABLE_ORDER = ["patients", "cards", "institutions", "pharmacies", "doctors", "pharmacists",
               "claims", "claim_items"]
REQUIRED_TABLES = [t for t in TABLE_ORDER if TABLES[t].required]

MEMBER_TYPES = ("patient", "card", "doctor", "pharmacist", "institution", "pharmacy", "phone",
                "address", "device", "trace_code", "drug")

#: typology -> (中文, what it is)
TYPOLOGIES = {
    "gang": ("职业骗保团伙", "organised collection and swiping of insured people's cards"),
    "impersonation": ("冒名就医", "cards used by someone other than the holder"),
    "diversion": ("回流药 / 倒卖医保药品", "key drugs obtained far beyond need and resold"),
    "fake_admission": ("虚假住院 / 诱导住院 / 挂床住院", "groups admitted together, repeatedly"),
}



#: member roles as a person reads them (pages, 报告.html, members.csv, rings.csv's role_zh); a
#: role not listed here is shown as it is
ROLE_ZH = {
    "swiped card": "被收集空刷的医保凭证",
    "card holder": "持卡人",
    "colluding pharmacy": "串通药店",
    "colluding facility": "串通医疗机构",
    "terminal": "刷卡终端",
    "controller": "控制人手机号",
    "organiser": "组织者",
    "organiser (owns the controller phone)": "组织者（控制人手机号的机主）",
    "organiser phone": "组织者手机号",
    "card used by another": "被他人冒用的医保凭证",
    "presented by the controller's phone": "由控制人手机出示的医保凭证",
    "user (owns the presenting phone)": "冒用人（出示凭证手机号的机主）",
    "user (the phone presents their own card most)": "冒用人（该手机最常出示其本人凭证）",
    "user (settled next to the card by one doctor or terminal, minutes apart, on several days)":
        "冒用人（多日在同一医师或终端前后数分钟内结算）",
    "controller (device carried between facilities)": "控制设备（在多家机构间携带使用）",
    "mule": "骗保开药人",
    "mule card": "骗保开药人的医保凭证",
    "prescriber": "开方医师",
    "dispensing facility": "取药机构",
    "re-settling pharmacy": "回收药店（再次结算）",
    "re-settled pack": "再次结算的药品（追溯码）",
    "straw card": "回收药店操控的医保凭证",
    "straw card holder": "被操控凭证的持卡人",
    "admitted": "被收治人员",
    "card used": "住院所用医保凭证",
    "admitting institution": "收治机构",
    "admitting doctor": "收治医师",
}


def role_zh(role: str) -> str:
    """The Chinese name of a member role (:data:`ROLE_ZH`), the role itself when it has none."""
    return ROLE_ZH.get(role, role)


def typology_name(name: str) -> str:
    """The typology a user means: its English name, or any of its 中文 names (职业骗保团伙,
    冒名就医, 回流药, 倒卖医保药品, 虚假住院, 诱导住院, 挂床住院, or the whole label).

    Raises :class:`~graphkit.errors.SettingsError` listing the valid names for anything else
    (``"gangs"`` is no typology: a silent empty answer would read as "none found").

    Examples
    --------
    >>> typology_name("回流药"), typology_name(" Gang ")
    ('diversion', 'gang')
    """
    from graphkit.errors import SettingsError

    key = str(name).strip()
    for typ, (zh, _en) in TYPOLOGIES.items():
        if key.lower() == typ or key == zh or key in [z.strip() for z in zh.split("/")]:
            return typ
    valid = ", ".join(f"{t} ({zh})" for t, (zh, _) in TYPOLOGIES.items())
    raise SettingsError(f"unknown typology {name!r}; valid: {valid}")


CLAIM_TYPE_ALIASES = {
    "outpatient": "outpatient", "门诊": "outpatient", "普通门诊": "outpatient",
    "门诊挂号": "outpatient", "门诊慢特病": "outpatient", "急诊": "outpatient",
    "11": "outpatient", "12": "outpatient", "13": "outpatient", "14": "outpatient",
    "inpatient": "inpatient", "住院": "inpatient", "普通住院": "inpatient",
    "21": "inpatient", "22": "inpatient", "52": "inpatient",
    "pharmacy": "pharmacy", "购药": "pharmacy", "药店购药": "pharmacy", "定点药店购药": "pharmacy",
    "41": "pharmacy",
}

#: a 医疗类别 name not listed above is read by the word in it (门诊特殊病, 外伤住院, 门急诊)
CLAIM_TYPE_WORDS = (("住院", "inpatient"), ("购药", "pharmacy"), ("药店", "pharmacy"),
                    ("门诊", "outpatient"), ("急诊", "outpatient"))

GENDER_ALIASES = {"m": "M", "male": "M", "男": "M", "男性": "M", "1": "M",
                  "f": "F", "female": "F", "女": "F", "女性": "F", "2": "F"}

CARD_TYPE_ALIASES = {"01": "01", "1": "01", "电子凭证": "01", "医保电子凭证": "01",
                     "02": "02", "2": "02", "身份证": "02", "居民身份证": "02",
                     "03": "03", "3": "03", "社保卡": "03", "社会保障卡": "03"}
