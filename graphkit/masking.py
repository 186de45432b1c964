"""Masking of personal data that a reader cannot undo by combining what is shown.

Masked output (ring pages, the index, every file of an evidence package) must not let anyone
rebuild a person's 身份证号 or phone number from the fields shown next to each other. A 身份证号 is
region (6 digits) + birth date (8) + sequence (3; its last digit is odd for men, even for women)
+ a check digit that is a function of the other 17 (GB 11643). Shown beside an exact birth date,
the 参保地 and the last four digits, the whole number follows. So masked output shows:

================  ===============================  ==========================================
field             masked as                        what a reader still has to guess
================  ===============================  ==========================================
身份证号           ``510104************``           birth date and sequence (the region is
                  (region only)                    public anyway: address and 参保地 show it)
出生日期           ``出生年份：1980`` (year only)     the day of the year: 365 or 366 dates
性别               shown (needed: 性别与诊断不符)     fixes the parity of the sequence: 500 left
参保地             shown (6 digits, the district)   nothing hidden; the count assumes it known
phone             ``138****1234``                  four middle digits: 10,000 numbers
name              ``张*`` / ``欧阳**``              the given name
address           ``四川省成都市武侯区****``          everything below the district
an age in text    ``（持卡人 M，60–69 岁）``         a decade, not a year (an age at a claim date
                                                   next to the birth year would narrow the day)
================  ===============================  ==========================================

Whoever knows the region, the birth year and the sex is left with at least 365 × 500 = 182,500
身份证号 (the check digit follows from them and adds nothing), and 10,000 phone numbers;
``tests/test_masking.py`` plays that reader on every page and file of a masked run. Identifiers
that are not personal data (patient_id, card_id, claim ids) stay readable so that an
investigator can ask for the unmasked record; one of them equal to a known 身份证号 or phone is
masked like one. ``--unmasked`` output shows everything and says so.
"""

from __future__ import annotations

import re
from typing import Iterable

import pandas as pd

__all__ = ["mask_id_number", "mask_name", "mask_phone", "mask_address", "mask_birth_date",
           "mask_age_in_text", "Masker", "COMPOUND_SURNAMES", "PII_COLUMNS", "text_of",
           "frame_of", "ID_VISIBLE_DIGITS", "PHONE_VISIBLE_HEAD", "PHONE_VISIBLE_TAIL"]

#: Leading digits of a 身份证号 left visible: the region code, which the 参保地 and the address
#: show anyway. Birth date, sequence and check digit are never shown.
ID_VISIBLE_DIGITS = 6
#: Digits of a phone number left visible at its start (the carrier's prefix) and its end.
PHONE_VISIBLE_HEAD = 3
PHONE_VISIBLE_TAIL = 4

#: Two-character 复姓 that keep both characters when a name is masked.
COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 诸葛 上官 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 令狐 端木 南宫 西门 独孤 "
    "轩辕 澹台 公冶 宗政 濮阳 淳于 单于 太叔 申屠 钟离 闻人 万俟 赫连 呼延 东郭 百里 司空 "
    "拓跋 完颜 纳兰 第五 亓官 仲孙 鲜于 闾丘 子车 左丘".split())


def text_of(value) -> str:
    """A cell as display text: ``""`` for None and NA, ``str(value)`` otherwise."""
    if type(value) is str:  # most values: no NA check needed (called ~2,000 times per page)
        return value
    if value is None:
        return ""
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    return str(value)


def frame_of(dataset, table: str) -> pd.DataFrame | None:
    """Table ``table`` of a data set (attribute or ``tables`` entry), or None."""
    if dataset is None:
        return None
    try:
        df = getattr(dataset, table)
    except (AttributeError, KeyError):
        df = getattr(dataset, "tables", {}).get(table)
    return df if isinstance(df, pd.DataFrame) else None


def mask_id_number(value) -> str:
    """Mask a 身份证号 down to its region code (birth date, sequence, check digit hidden).

    >>> mask_id_number("510104199001011234")
    '510104************'
    """
    s = text_of(value).strip()
    if not s:
        return ""
    if len(s) < 12:  # not an 18- or 15-digit number: too short to keep any of it
        return "*" * len(s)
    return s[:ID_VISIBLE_DIGITS] + "*" * (len(s) - ID_VISIBLE_DIGITS)


def mask_birth_date(value) -> str:
    """A birth date as its year only (the day would narrow the 身份证号 to 500 numbers).

    >>> mask_birth_date("1980-10-11"), mask_birth_date(pd.Timestamp("1933-05-27"))
    ('1980', '1933')
    """
    if isinstance(value, pd.Timestamp):
        return str(value.year)
    s = text_of(value).strip()
    m = re.match(r"(\d{4})", s)
    return m.group(1) if m else ("****" if s else "")


def mask_name(value) -> str:
    """Mask a person's name keeping the surname (two characters for a 复姓 such as 欧阳).

    >>> mask_name("张三"), mask_name("欧阳娜娜"), mask_name("张三丰")
    ('张*', '欧阳**', '张**')
    """
    s = text_of(value).strip()
    if not s:
        return ""
    keep = 2 if s[:2] in COMPOUND_SURNAMES and len(s) > 2 else 1
    if len(s) == 1:
        return "*"
    return s[:keep] + "*" * (len(s) - keep)


def mask_phone(value) -> str:
    """Mask a phone number keeping the first 3 and last 4 digits (separators kept).

    >>> mask_phone("13812341234")
    '138****1234'
    """
    s = text_of(value).strip()
    if not s:
        return ""
    digits = [i for i, ch in enumerate(s) if ch.isdigit()]
    if len(digits) < PHONE_VISIBLE_HEAD + PHONE_VISIBLE_TAIL + 4:
        # a short (landline extension, malformed) number: show only its last two characters
        return "".join("*" if ch.isalnum() else ch for ch in s[:-2]) + s[-2:] if len(s) > 2 \
            else "*" * len(s)
    hide = set(digits[PHONE_VISIBLE_HEAD:-PHONE_VISIBLE_TAIL])
    return "".join("*" if i in hide else ch for i, ch in enumerate(s))


_DISTRICT_RE = re.compile(r"(?<!自治)[区县旗]|市辖区")


def mask_address(value) -> str:
    """Keep an address down to its district (区/县/旗), else its first 6 characters.

    >>> mask_address("四川省成都市武侯区人民南路四段1号")
    '四川省成都市武侯区****'
    """
    s = text_of(value).strip()
    if not s:
        return ""
    m = _DISTRICT_RE.search(s)
    if m and 2 <= m.end() <= 16 and m.end() < len(s):
        return s[:m.end()] + "****"
    if m and m.end() == len(s):
        return s
    if len(s) <= 6:
        return s[:2] + "****" if len(s) > 2 else "****"
    return s[:6] + "****"


#: an age stated in an evidence sentence: "（持卡人 M，65 岁）"
_AGE_IN_TEXT_RE = re.compile(r"(?<=，)(\d{1,3}) ?岁(?=）)")


def mask_age_in_text(text: str) -> str:
    """Ages in evidence sentences as their decade: an age at a claim date, next to the birth
    year, would tell on which day of the year the person was born.

    >>> mask_age_in_text("孕期检查（持卡人 M，65 岁）")
    '孕期检查（持卡人 M，60–69 岁）'
    """
    def decade(m):
        low = int(m.group(1)) // 10 * 10
        return f"{low}–{low + 9} 岁"

    return _AGE_IN_TEXT_RE.sub(decade, text)


_ID_RE = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
_MOBILE_RE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
_TOKEN_RE = re.compile(r"[0-9A-Za-z][0-9A-Za-z\-]*")

#: table -> column -> masking function
PII_COLUMNS = {
    "patients": {"name": mask_name, "id_number": mask_id_number, "phone": mask_phone,
                 "address": mask_address, "birth_date": mask_birth_date},
    "doctors": {"name": mask_name},
    "pharmacists": {"name": mask_name},
    "claims": {"operator_phone": mask_phone},
}


def _column_values(ds, table: str, column: str) -> Iterable[str]:
    df = frame_of(ds, table)
    if df is None or column not in df:
        return ()
    return (str(v).strip() for v in df[column].dropna().unique())


class Masker:
    """Masks personal data the same way everywhere (pages, CSVs, report, tooltips).

    ``Masker(dataset)`` learns the data set's 身份证号 and phones so that they are masked wherever
    they appear (an id used as a card number, a phone in an evidence sentence), besides the
    18-digit id and mobile-number patterns. Names and addresses of the people in view are masked
    in free text once registered with :meth:`know_people`. ``Masker(enabled=False)`` changes
    nothing.
    """

    def __init__(self, dataset=None, *, enabled: bool = True):
        self.enabled = enabled
        self._ids: set[str] = set()
        self._phones: set[str] = set()
        self._words: dict[str, str] = {}
        self._words_re = None
        self._odd_phones: list[str] = []
        self._texts: dict[str, str] = {}  # text() results since the last know_people()
        if enabled and dataset is not None:
            self._ids.update(v for v in _column_values(dataset, "patients", "id_number") if v)
            for table, column in (("patients", "phone"), ("claims", "operator_phone")):
                self._phones.update(v for v in _column_values(dataset, table, column) if v)
        # phones written with separators or spaces cannot be found by token; match them whole
        self._odd_phones = sorted((p for p in self._phones if not p.isalnum()), key=len,
                                  reverse=True)

    def scoped(self) -> "Masker":
        """A masker sharing the known ids and phones but with its own names and addresses."""
        m = Masker(enabled=self.enabled)
        m._ids, m._phones, m._odd_phones = self._ids, self._phones, self._odd_phones
        return m

    # column-level
    def name(self, v) -> str:
        return mask_name(v) if self.enabled else text_of(v)

    def id_number(self, v) -> str:
        return mask_id_number(v) if self.enabled else text_of(v)

    def phone(self, v) -> str:
        return mask_phone(v) if self.enabled else text_of(v)

    def address(self, v) -> str:
        return mask_address(v) if self.enabled else text_of(v)

    def birth_date(self, v) -> str:
        """The year (masked) or the whole date (unmasked)."""
        return mask_birth_date(v) if self.enabled else text_of(v)

    def know_people(self, names: Iterable = (), addresses: Iterable = ()) -> None:
        """Register names and addresses to be masked wherever they appear in free text."""
        if not self.enabled:
            return
        for n in names:
            n = text_of(n).strip()
            if len(n) >= 2:
                self._words[n] = mask_name(n)
        for a in addresses:
            a = text_of(a).strip()
            if len(a) >= 4:
                self._words[a] = mask_address(a)
        self._words_re = None
        self._texts.clear()

    def is_pii_id(self, value) -> bool:
        s = text_of(value).strip()
        return bool(s) and (s in self._ids or s in self._phones or bool(_ID_RE.fullmatch(s))
                            or bool(_MOBILE_RE.fullmatch(s)))

    def ident(self, type_: str, value) -> str:
        """An identifier of a member type as it may be shown (phones and addresses masked)."""
        s = text_of(value)
        if not self.enabled:
            return s
        if type_ == "phone":
            return mask_phone(s)
        if type_ == "address":
            return mask_address(s)
        return self.text(s)

    def text(self, value) -> str:
        """Free text with every known or recognisable 身份证号, phone, name and address masked,
        and ages stated in it shown as their decade."""
        s = text_of(value)
        if not self.enabled or not s:
            return s
        done = self._texts.get(s)
        if done is None:
            if len(self._texts) >= 100_000:  # a whole table's free text: keep memory bounded
                self._texts.clear()
            done = self._texts[s] = self._mask_text(s)
        return done

    def _mask_text(self, s: str) -> str:
        def token(m):
            t = m.group(0)
            if t in self._ids:
                return mask_id_number(t)
            if t in self._phones:
                return mask_phone(t)
            return t

        s = _TOKEN_RE.sub(token, s)
        s = _ID_RE.sub(lambda m: mask_id_number(m.group(0)), s)
        s = _MOBILE_RE.sub(lambda m: mask_phone(m.group(0)), s)
        for p in self._odd_phones:
            if p in s:
                s = s.replace(p, mask_phone(p))
        if self._words:
            if self._words_re is None:
                keys = sorted(self._words, key=len, reverse=True)
                self._words_re = re.compile("|".join(re.escape(k) for k in keys))
            s = self._words_re.sub(lambda m: self._words[m.group(0)], s)
        if "岁" in s:
            s = mask_age_in_text(s)
        return s

    def frame(self, df: pd.DataFrame, table: str) -> pd.DataFrame:
        """A copy of ``df`` with its PII columns masked and every other text column scrubbed."""
        out = df.copy()
        if not self.enabled:
            return out
        special = PII_COLUMNS.get(table, {})
        for col in out.columns:
            s = out[col]
            if col in special:
                fn = special[col]
                out[col] = s.map(lambda v, fn=fn: fn(v) if text_of(v) else v).astype("string")
            elif s.dtype == object or isinstance(s.dtype, pd.StringDtype):
                out[col] = s.map(lambda v: self.text(v) if text_of(v) else v).astype("string")
        return out
