"""graphkit.load: encodings, header aliases, IDs, normalisation, rejects, flags, conservation."""

from __future__ import annotations

import copy
import csv
import datetime as dt
import gzip
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import graphkit as gk
from graphkit.contract import CLAIM_TYPE_ALIASES, TABLES, normalise_header
from graphkit.errors import LoadError

from tests.datadir import (
    ENCODINGS,
    FORMATS,
    HEADER_STYLES,
    csv_bytes,
    full_tables,
    minimal_tables,
    write_dir,
    write_raw,
    write_table,
)

REPO = Path(__file__).resolve().parent.parent
P1, P2, P3 = "0000000000000001", "0000000000000002", "0000000000000003"


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def assert_conserved(ds: gk.Dataset) -> None:
    """read = accepted + rejected for every table, and the rejects frame agrees."""
    for t, c in ds.counts.items():
        assert c["read"] == c["accepted"] + c["rejected"], (t, c)
        assert c["accepted"] == len(ds.tables[t]), (t, c)
        assert c["rejected"] == int((ds.rejects["table"] == t).sum()), (t, c)
        assert sum(c["reasons"].values()) == c["rejected"], (t, c)


def load(d, **kw) -> gk.Dataset:
    """graphkit.load plus the conservation check (every test data dir is checked)."""
    ds = gk.load(d, **kw)
    assert_conserved(ds)
    return ds


def rejects_of(ds: gk.Dataset, table: str) -> list[tuple[str, int, str]]:
    r = ds.rejects[ds.rejects["table"] == table]
    return [(f, int(line), reason) for f, line, reason in r[["file", "line", "reason"]].itertuples(index=False)]


def write_csv_text(d: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    return write_raw(d, name, text, encoding=encoding)


# --------------------------------------------------------------------------------------------
# every alias of every column (iterates the contract, so new aliases are covered automatically)
# --------------------------------------------------------------------------------------------

ALIAS_ROWS: dict[str, list[dict]] = {
    "patients": [
        {"patient_id": P1, "name": "张三", "id_number": "11010119800101001X", "gender": "男",
         "birth_date": "1980-01-01", "region": "110101", "death_date": "2030-01-01",
         "phone": "13800000001", "address": "北京市东城区一号"},
        {"patient_id": P2, "name": "李四", "id_number": "110101198502020022", "gender": "女",
         "birth_date": "1985-02-02", "region": "110102", "death_date": "2030-02-02",
         "phone": "13800000002", "address": "北京市东城区二号"},
    ],
    "cards": [
        {"card_id": "C0001", "patient_id": P1, "card_type": "01"},
        {"card_id": "C0002", "patient_id": P2, "card_type": "03"},
    ],
    "institutions": [
        {"institution_id": "H0001", "name": "第一医院", "level": "三级", "ownership": "公立",
         "kind": "医院", "region": "110101"},
    ],
    "pharmacies": [{"pharmacy_id": "P0001", "name": "大药房", "region": "110101"}],
    "doctors": [{"doctor_id": "D0001", "name": "赵医生", "institution_id": "H0001", "department": "内科"}],
    "pharmacists": [{"pharmacist_id": "Y0001", "name": "钱药师", "pharmacy_id": "P0001"}],
    "claims": [
        {"claim_id": "S1", "patient_id": P1, "card_id": P1, "facility_id": "H0001",
         "doctor_id": "D0001", "pharmacist_id": "Y0001", "claim_type": "21",
         "settle_time": "2024-03-05 10:00:00", "admit_date": "2024-03-01",
         "discharge_date": "2024-03-05", "diagnosis_code": "J18.9", "total_amount": "1000.5",
         "fund_amount": "800.25", "device_id": "T0001", "operator_phone": "13900000009"},
        {"claim_id": "S2", "patient_id": P2, "card_id": P2, "facility_id": "P0001",
         "doctor_id": "D0001", "pharmacist_id": "Y0001", "claim_type": "41",
         "settle_time": "2024-03-06 11:00:00", "admit_date": "2024-03-06",
         "discharge_date": "2024-03-06", "diagnosis_code": "I10", "total_amount": "50",
         "fund_amount": "40", "device_id": "T0002", "operator_phone": "13900000010"},
    ],
    "claim_items": [
        {"item_id": "I1", "claim_id": "S1", "item_code": "XA01", "item_name": "阿莫西林",
         "quantity": "2", "unit_price": "10", "amount": "20", "trace_code": "81234567890123456789"},
    ],
}


def _alias_dir(d: Path, table: str, header) -> Path:
    """patients + claims (+ ``table``), every table in English except ``table``."""
    for t in dict.fromkeys(["patients", "claims", table]):
        write_table(d, t, ALIAS_ROWS[t], header=header if t == table else "english")
    return d


ALIAS_CASES = [(t.name, c.name, a) for t in TABLES.values() for c in t.columns for a in c.all_names]
# one load per (table, k): every column of the table is headed by its k-th name (English, field
# code, Chinese label, further aliases ...), so every alias is loaded once at modest cost
ALIAS_SLOTS = [(t.name, k) for t in TABLES.values()
               for k in range(max(len(c.all_names) for c in t.columns))]


@pytest.fixture(scope="module")
def alias_reference(tmp_path_factory) -> dict[str, pd.DataFrame]:
    out = {}
    for t in TABLES:
        out[t] = load(_alias_dir(tmp_path_factory.mktemp(t), t, "english")).tables[t]
    return out


@pytest.mark.parametrize("table,k", ALIAS_SLOTS, ids=[f"{t}-name{k}" for t, k in ALIAS_SLOTS])
def test_every_alias_loads_as_its_column_any_case_with_spaces(tmp_path, alias_reference, table, k):
    cols = TABLES[table].columns
    used = {c.name: c.all_names[k] for c in cols if k < len(c.all_names)}
    header = {c.name: f"  {used.get(c.name, c.name).upper()} " for c in cols}
    ds = load(_alias_dir(tmp_path, table, header))
    got = ds.tables[table]
    wrong = []
    for column, alias in used.items():
        ref = alias_reference[table][column]
        assert len(ref) == len(ALIAS_ROWS[table]) and ref.notna().all()  # not a vacuous comparison
        if column not in got or not got[column].equals(ref):
            wrong.append(f"{alias!r} -> {column}")
    assert wrong == []
    assert [c for c in got.columns if c.startswith("extra:")] == []


@pytest.mark.parametrize("table,column,alias", ALIAS_CASES,
                         ids=[f"{t}.{c}={a}" for t, c, a in ALIAS_CASES])
def test_every_alias_variant_maps_in_the_header_map(table, column, alias):
    hmap = TABLES[table].header_map()
    for variant in (alias, alias.upper(), alias.lower(), alias.title(), f" {alias}\t",
                    f"\ufeff{alias}", f'"{alias}"'):
        assert hmap[normalise_header(variant)] == column, variant


@pytest.mark.parametrize("table", list(TABLES))
def test_bom_before_first_header_is_ignored(tmp_path, table):
    for t in dict.fromkeys(["patients", "claims", table]):
        write_table(tmp_path, t, ALIAS_ROWS[t], header="english", encoding="utf-8-sig")
    ds = load(tmp_path)
    first = TABLES[table].columns[0].name
    assert ds.encodings[table] == "utf-8-sig"
    assert ds.tables[table][first].tolist() == [r[first] for r in ALIAS_ROWS[table]]


def test_bom_in_parquet_column_name_is_ignored(tmp_path):
    write_table(tmp_path, "patients", ALIAS_ROWS["patients"], fmt="parquet",
                header={"patient_id": "\ufeffpatient_id"})
    write_table(tmp_path, "claims", ALIAS_ROWS["claims"])
    ds = load(tmp_path)
    assert ds.patients["patient_id"].tolist() == [P1, P2]


def test_quoted_header_names_are_recognised(tmp_path):
    write_table(tmp_path, "patients", ALIAS_ROWS["patients"])
    text = '"结算ID","人员编号","定点医药机构编号","医疗类别","结算时间"\nS1,%s,H1,11,2024-03-01\n' % P1
    write_csv_text(tmp_path, "claims.csv", text)
    ds = load(tmp_path)
    assert ds.claims["claim_id"].tolist() == ["S1"]


@pytest.mark.parametrize("headers", [
    ("Claim ID", "Patient ID", "Facility ID", "Claim Type", "Settle Time"),
    ("claim-id", "patient-id", "facility-id", "claim-type", "settle-time"),
    ("claimId", "patientId", "facilityId", "claimType", "settleTime"),
    ("ClaimID", "PatientID", "FacilityID", "ClaimType", "SETL_TIME")],
    ids=["spaces", "hyphens", "camelCase", "PascalCase"])
def test_headers_written_with_spaces_hyphens_or_camel_case_are_recognised(tmp_path, headers):
    """Spreadsheet and API exports spell the contract's names their own way."""
    write_table(tmp_path, "patients", ALIAS_ROWS["patients"])
    write_csv_text(tmp_path, "claims.csv", ",".join(headers) + f"\nS1,{P1},H1,11,2024-03-01\n")
    ds = load(tmp_path)
    assert ds.claims["claim_id"].tolist() == ["S1"] and ds.n_rejected == 0


def test_a_unit_in_brackets_after_a_header_is_ignored(tmp_path):
    write_table(tmp_path, "patients", ALIAS_ROWS["patients"])
    text = ("结算ID,人员编号,定点医药机构编号,医疗类别,结算时间[yyyy-mm-dd],医疗费总额(元),基金支付总额（元）\n"
            f"S1,{P1},H1,11,2024-03-01,120.5,80\n")
    write_csv_text(tmp_path, "claims.csv", text)
    ds = load(tmp_path)
    assert ds.claims[["total_amount", "fund_amount"]].values.tolist() == [[120.5, 80.0]]
    assert not [c for c in ds.claims.columns if c.startswith("extra")]


@pytest.mark.parametrize("quoted", [False, True], ids=["plain", "quoted-header"])
def test_tab_separated_files_load_like_comma_separated_ones(tmp_path, quoted):
    """Excel's 文本文件(制表符分隔) saved as .csv: a header with tabs and no comma is read with
    tabs, by the fast path and the exact one alike; a row with a tab too many is still
    rejected with its line."""
    import csv as _csv

    write_dir(tmp_path / "comma", full_tables())
    tsv = tmp_path / "tab"
    tsv.mkdir()
    for src in sorted((tmp_path / "comma").glob("*.csv")):
        rows = list(_csv.reader(src.read_text(encoding="utf-8").splitlines()))
        lines = ["\t".join(f'"{h}"' if quoted else h for h in rows[0])]
        lines += ["\t".join(r) for r in rows[1:]]
        if src.stem == "claims":
            lines.append(lines[1].replace("\t", "\t\t", 1))  # one field too many
            width = len(rows[0])
        (tsv / src.name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    a, b = load(tmp_path / "comma"), load(tsv)
    for table in ("patients", "cards", "claims", "claim_items"):
        pd.testing.assert_frame_equal(a.tables[table], b.tables[table], obj=table)
    assert [(r["line"], r["reason"]) for _, r in b.rejects.iterrows()] == [
        (len(full_tables()["claims"]) + 2, f"expected {width} fields, got {width + 1}")]


def test_unknown_extra_columns_are_kept_as_extra_columns(tmp_path):
    tabs = minimal_tables()
    for i, r in enumerate(tabs["claims"]):
        r["备注"] = f"note{i}"
        r["source_system"] = "HIS"
    write_dir(tmp_path, tabs)
    ds = load(tmp_path)
    assert ds.claims["extra:备注"].tolist() == ["note0", "note1"]
    assert ds.claims["extra:source_system"].tolist() == ["HIS", "HIS"]
    assert ds.counts["claims"]["accepted"] == 2


def test_extra_columns_are_not_used_for_validation(tmp_path):
    tabs = minimal_tables()
    tabs["claims"][0]["amount_note"] = "-5 not a number"
    write_dir(tmp_path, tabs)
    ds = load(tmp_path)
    assert ds.counts["claims"]["rejected"] == 0


def test_second_alias_of_an_already_mapped_column_is_kept_as_extra(tmp_path):
    write_csv_text(tmp_path, "patients.csv", f"patient_id,人员编号\n{P1},{P2}\n")
    write_table(tmp_path, "claims", minimal_tables()["claims"][:1])
    ds = load(tmp_path)
    assert ds.patients["patient_id"].tolist() == [P1]
    assert ds.patients["extra:人员编号"].tolist() == [P2]


# --------------------------------------------------------------------------------------------
# encodings and formats
# --------------------------------------------------------------------------------------------


FORMAT_CASES = ([("csv", e, h) for e in ENCODINGS for h in HEADER_STYLES]
                + [("csv.gz", e, HEADER_STYLES[i % 3]) for i, e in enumerate(ENCODINGS)]
                + [("parquet", "utf-8", h) for h in HEADER_STYLES])


@pytest.mark.parametrize("fmt,encoding,style", FORMAT_CASES, ids=["-".join(c) for c in FORMAT_CASES])
def test_full_directory_loads_in_every_format_encoding_and_header_style(tmp_path, fmt, encoding,
                                                                       style):
    write_dir(tmp_path, full_tables(), fmt=fmt, encoding=encoding, header=style)
    ds = load(tmp_path)
    assert {t: c["rejected"] for t, c in ds.counts.items()} == {t: 0 for t in TABLES}
    assert ds.patients["name"].tolist() == ["张三", "李四", "王五"]
    assert ds.claim_items["item_name"].tolist() == ["阿莫西林", "胰岛素", "检查费"]


@pytest.mark.parametrize("encoding,detected", [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"),
                                               ("gbk", "gb18030"), ("gb18030", "gb18030")])
def test_encoding_is_detected_from_the_bytes(tmp_path, encoding, detected):
    write_dir(tmp_path, minimal_tables(), encoding=encoding, header="chinese")
    ds = load(tmp_path)
    assert ds.encodings["patients"] == detected
    assert ds.patients["name"].tolist() == ["张三", "李四"]


@pytest.mark.parametrize("gz", [False, True])
def test_gb18030_characters_outside_gbk_survive(tmp_path, gz):
    names = ["张𠀀", "李㐀"]
    with pytest.raises(UnicodeEncodeError):
        names[0].encode("gbk")
    tabs = minimal_tables()
    for r, n in zip(tabs["patients"], names):
        r["name"] = n
    write_dir(tmp_path, tabs, encoding="gb18030", header="chinese", fmt="csv.gz" if gz else "csv")
    ds = load(tmp_path)
    assert ds.encodings["patients"] == "gb18030"
    assert ds.patients["name"].tolist() == names


def test_csv_gz_loads(tmp_path):
    write_dir(tmp_path, minimal_tables(), fmt="csv.gz", encoding="gbk", header="nhsa")
    ds = load(tmp_path)
    assert ds.files["claims"].name == "claims.csv.gz"
    assert ds.claims["claim_id"].tolist() == ["S1", "S2"]


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_fully_quoted_csv_loads_like_minimally_quoted(tmp_path, newline):
    write_dir(tmp_path / "a", full_tables(), header="chinese")
    write_dir(tmp_path / "b", full_tables(), header="chinese", quote_all=True, newline=newline)
    a, b = load(tmp_path / "a"), load(tmp_path / "b")
    assert (tmp_path / "b" / "claims.csv").read_bytes().startswith('"结算ID"'.encode())
    for t in TABLES:
        pd.testing.assert_frame_equal(a.tables[t], b.tables[t])


def test_crlf_and_cr_line_endings_load(tmp_path):
    write_table(tmp_path, "patients", ALIAS_ROWS["patients"])
    body = f"claim_id,patient_id,facility_id,claim_type,settle_time\rS1,{P1},H1,11,2024-03-01\r" \
           f"S2,{P2},H1,11,2024-03-02\r"
    write_csv_text(tmp_path, "claims.csv", body.replace("\r", "\r\n"))
    assert load(tmp_path).claims["_line"].tolist() == [2, 3]
    write_csv_text(tmp_path, "claims.csv", body)
    assert load(tmp_path).claims["_line"].tolist() == [2, 3]


def test_parquet_zoned_timestamps_are_read_as_beijing_time(tmp_path):
    """A timestamp stored in UTC (what many exporters write) is 8 hours behind the clock the
    claim was settled by; a naive one is taken as it is."""
    write_dir(tmp_path, minimal_tables())
    (tmp_path / "claims.csv").unlink()
    write_table(tmp_path, "claims", [
        {"claim_id": "S1", "patient_id": P1, "facility_id": "H1", "claim_type": "11",
         "settle_time": dt.datetime(2024, 3, 1, 0, 30, tzinfo=dt.timezone.utc), "total_amount": 1.0},
        {"claim_id": "S2", "patient_id": P2, "facility_id": "H1", "claim_type": "11",
         "settle_time": dt.datetime(2024, 3, 1, 8, 30, tzinfo=dt.timezone.utc), "total_amount": 1.0},
    ], fmt="parquet", arrow_types={"settle_time": pa.timestamp("us", tz="UTC"),
                                   "total_amount": pa.float64()})
    ds = load(tmp_path)
    assert ds.claims["settle_time"].tolist() == [pd.Timestamp("2024-03-01 08:30"),
                                                 pd.Timestamp("2024-03-01 16:30")]

def test_parquet_with_int64_date_and_timestamp_columns(tmp_path):
    write_table(tmp_path, "patients", [
        {"patient_id": P1, "birth_date": dt.date(1980, 1, 2), "gender": 1},
        {"patient_id": P2, "birth_date": dt.date(1985, 2, 3), "gender": 2},
    ], fmt="parquet", arrow_types={"birth_date": pa.date32(), "gender": pa.int64()})
    write_table(tmp_path, "claims", [
        {"claim_id": "S1", "patient_id": P1, "facility_id": "H1", "claim_type": 11,
         "settle_time": dt.datetime(2024, 3, 1, 8, 30), "total_amount": 12.5},
        {"claim_id": "S2", "patient_id": P2, "facility_id": "H1", "claim_type": 21,
         "settle_time": dt.datetime(2024, 3, 2, 9, 0, 5), "total_amount": 100.0},
    ], fmt="parquet", arrow_types={"claim_type": pa.int64(), "settle_time": pa.timestamp("us"),
                                   "total_amount": pa.float64()})
    write_table(tmp_path, "claim_items", [
        {"claim_id": "S1", "quantity": 3, "amount": 12.5},
    ], fmt="parquet", arrow_types={"quantity": pa.int64(), "amount": pa.float64()})
    ds = load(tmp_path)
    assert ds.patients["birth_date"].tolist() == [pd.Timestamp("1980-01-02"), pd.Timestamp("1985-02-03")]
    assert ds.patients["gender"].tolist() == ["M", "F"]
    assert ds.claims["claim_type"].tolist() == ["outpatient", "inpatient"]
    assert ds.claims["settle_time"].tolist() == [pd.Timestamp("2024-03-01 08:30:00"),
                                                 pd.Timestamp("2024-03-02 09:00:05")]
    assert ds.claims["total_amount"].tolist() == [12.5, 100.0]
    assert ds.claim_items["quantity"].tolist() == [3.0]


def test_parquet_line_is_the_row_number(tmp_path):
    write_table(tmp_path, "patients", ALIAS_ROWS["patients"], fmt="parquet")
    rows = copy.deepcopy(ALIAS_ROWS["claims"])
    rows[1]["patient_id"] = "9999"
    write_table(tmp_path, "claims", rows, fmt="parquet")
    ds = load(tmp_path)
    assert rejects_of(ds, "claims") == [("claims.parquet", 2, "unknown patient_id")]


# --------------------------------------------------------------------------------------------
# IDs survive bit for bit
# --------------------------------------------------------------------------------------------

ID_ROWS = {
    "patients": [{"patient_id": "0000012345678901"}, {"patient_id": "0099999999999999"}],
    "cards": [{"card_id": "00000000000000000001", "patient_id": "0000012345678901", "card_type": "01"},
              {"card_id": "0099999999999999", "patient_id": "0099999999999999", "card_type": "02"}],
    "claims": [{"claim_id": "000000000000000000000001", "patient_id": "0000012345678901",
                "card_id": "00000000000000000001", "facility_id": "H0001", "claim_type": "41",
                "settle_time": "2024-03-01"},
               {"claim_id": "1E5", "patient_id": "0099999999999999",
                "card_id": "0099999999999999", "facility_id": "007", "claim_type": "41",
                "settle_time": "2024-03-01"}],
    "claim_items": [{"item_id": "01", "claim_id": "000000000000000000000001",
                     "item_code": "XA01BAA0001010100001", "trace_code": "81234567890123456789"},
                    {"item_id": "1.0", "claim_id": "1E5", "item_code": "0012",
                     "trace_code": "99999999999999999999"}],
}


@pytest.mark.parametrize("fmt", FORMATS)
def test_ids_survive_bit_for_bit(tmp_path, fmt):
    write_dir(tmp_path, ID_ROWS, fmt=fmt)
    ds = load(tmp_path)
    assert ds.patients["patient_id"].tolist() == ["0000012345678901", "0099999999999999"]
    assert ds.cards["card_id"].tolist() == ["00000000000000000001", "0099999999999999"]
    assert ds.cards["card_type"].tolist() == ["01", "02"]
    assert ds.claims["claim_id"].tolist() == ["000000000000000000000001", "1E5"]
    assert ds.claims["facility_id"].tolist() == ["H0001", "007"]
    assert ds.claim_items["item_id"].tolist() == ["01", "1.0"]
    assert ds.claim_items["item_code"].tolist() == ["XA01BAA0001010100001", "0012"]
    assert ds.claim_items["trace_code"].tolist() == ["81234567890123456789", "99999999999999999999"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_id_columns_are_string_dtype(tmp_path, fmt):
    write_dir(tmp_path, ID_ROWS, fmt=fmt)
    ds = load(tmp_path)
    for t in ("patients", "cards", "claims", "claim_items"):
        for c in TABLES[t].columns:
            if c.kind == "id":
                assert pd.api.types.is_string_dtype(ds.tables[t][c.name]), (t, c.name)


def test_column_dtypes_follow_the_contract(tmp_path):
    write_dir(tmp_path, full_tables())
    ds = load(tmp_path)
    for t, table in TABLES.items():
        df = ds.tables[t]
        for c in table.columns:
            s = df[c.name]
            if c.kind in ("date", "datetime"):
                assert pd.api.types.is_datetime64_dtype(s), (t, c.name, s.dtype)
            elif c.kind == "decimal":
                assert s.dtype == np.float64, (t, c.name, s.dtype)
            else:
                assert pd.api.types.is_string_dtype(s), (t, c.name, s.dtype)


def test_missing_values_are_na_not_empty_strings(tmp_path):
    write_dir(tmp_path, full_tables())
    ds = load(tmp_path)
    assert ds.patients["id_number"].isna().tolist() == [False, False, True]
    assert ds.claims["doctor_id"].isna().tolist() == [False, True, False]


# --------------------------------------------------------------------------------------------
# normalisation
# --------------------------------------------------------------------------------------------

GENDERS = [("M", "M"), ("F", "F"), ("m", "M"), ("f", "F"), ("男", "M"), ("女", "F"), ("1", "M"),
           ("2", "F"), (" 男 ", "M"), ("Male", "M"), ("female", "F"), ("男性", "M"), ("女性", "F")]


def _patients_with(tmp_path, column, values, **kw):
    rows = [{"patient_id": f"{i:016d}", column: v} for i, v in enumerate(values)]
    write_table(tmp_path, "patients", rows, **kw)
    write_table(tmp_path, "claims", [{"claim_id": "S1", "patient_id": rows[0]["patient_id"],
                                      "facility_id": "H1", "claim_type": "11",
                                      "settle_time": "2024-03-01"}])
    return load(tmp_path)


def test_gender_is_normalised_to_m_and_f(tmp_path):
    ds = _patients_with(tmp_path, "gender", [g for g, _ in GENDERS])
    assert ds.patients["gender"].tolist() == [n for _, n in GENDERS]


def test_unknown_gender_is_missing_not_rejected(tmp_path):
    ds = _patients_with(tmp_path, "gender", ["M", "X", ""])
    assert ds.patients["gender"].isna().tolist() == [False, True, True]
    assert ds.counts["patients"]["rejected"] == 0


CLAIM_TYPES = sorted(CLAIM_TYPE_ALIASES.items()) + [
    ("Outpatient", "outpatient"), ("INPATIENT", "inpatient"), (" 41 ", "pharmacy"), ("门诊", "outpatient"),
    ("住院", "inpatient"), ("购药", "pharmacy")]


def _claims_with(tmp_path, column, values, **kw):
    write_table(tmp_path, "patients", [{"patient_id": P1}])
    rows = [{"claim_id": f"S{i}", "patient_id": P1, "facility_id": "H1", "claim_type": "11",
             "settle_time": "2024-03-01"} for i in range(len(values))]
    for r, v in zip(rows, values):
        r[column] = v
    write_table(tmp_path, "claims", rows, **kw)
    return load(tmp_path)


def test_claim_type_english_chinese_and_med_type_codes_are_normalised(tmp_path):
    ds = _claims_with(tmp_path, "claim_type", [k for k, _ in CLAIM_TYPES])
    assert ds.claims["claim_type"].tolist() == [v for _, v in CLAIM_TYPES]


def test_a_claim_type_name_not_listed_is_read_by_its_word(tmp_path):
    """医疗类别 names vary by province: 门诊特殊病, 外伤住院, 门急诊 are read by 门诊/住院/急诊;
    a value with none of the words is still rejected."""
    ds = _claims_with(tmp_path, "claim_type", ["门诊特殊病", "外伤住院", "门急诊", "药店", "其他"])
    assert ds.claims["claim_type"].tolist() == ["outpatient", "inpatient", "outpatient", "pharmacy"]
    assert ds.counts["claims"]["reasons"] == {"unknown claim_type": 1}


@pytest.mark.parametrize("code,expected", [("11", "outpatient"), ("12", "outpatient"),
                                           ("13", "outpatient"), ("14", "outpatient"),
                                           ("21", "inpatient"), ("22", "inpatient"),
                                           ("52", "inpatient"), ("41", "pharmacy")])
def test_med_type_code_maps_to_claim_type(tmp_path, code, expected):
    ds = _claims_with(tmp_path, "claim_type", [code])
    assert ds.claims["claim_type"].tolist() == [expected]


DATES = [("2024-03-01", "2024-03-01"), ("2024/3/1", "2024-03-01"), ("2024/03/01", "2024-03-01"),
         ("20240301", "2024-03-01"), ("2024-03-01 08:00:00", "2024-03-01 08:00:00"),
         ("2024/3/1 8:05:09", "2024-03-01 08:05:09"), ("2024-03-01T08:00:00", "2024-03-01 08:00:00"),
         ("2024-3-1", "2024-03-01"), ("2024.03.01", "2024-03-01"), ("2024年3月1日", "2024-03-01"),
         ("20240301083000", "2024-03-01 08:30:00"), ("2024-03-01 08:00", "2024-03-01 08:00:00"),
         ("2024-03-01 08:00:00.123", "2024-03-01 08:00:00.123"),
         # an ISO export with a UTC offset is read as Beijing time, like every other row
         ("2024-03-01T08:00:00+08:00", "2024-03-01 08:00:00"),
         ("2024-03-01T00:00:00Z", "2024-03-01 08:00:00"),
         ("2024-03-01 09:00:00+09:00", "2024-03-01 08:00:00"),
         ("2024-03-01T08:00:00.500+08:00", "2024-03-01 08:00:00.5"),
         ("2024-03-01 08:00:00 +0800", "2024-03-01 08:00:00"),
         # 年月日 with a time, 时分秒, a compact time, a slash date with ISO T
         ("2024年3月1日 8:00:05", "2024-03-01 08:00:05"), ("2024年3月1日 08:00", "2024-03-01 08:00:00"),
         ("2024年3月1日8时5分9秒", "2024-03-01 08:05:09"), ("2024年03月01日08时00分", "2024-03-01 08:00:00"),
         ("20240301 080000", "2024-03-01 08:00:00"), ("2024/03/01T08:00", "2024-03-01 08:00:00")]


@pytest.mark.parametrize("text,expected", DATES)
def test_settle_time_formats_chinese_exports_use(tmp_path, text, expected):
    ds = _claims_with(tmp_path, "settle_time", [text])
    assert ds.claims["settle_time"].tolist() == [pd.Timestamp(expected)]


def test_mixed_date_formats_in_one_column(tmp_path):
    ds = _claims_with(tmp_path, "settle_time", [t for t, _ in DATES])
    assert ds.claims["settle_time"].tolist() == [pd.Timestamp(e) for _, e in DATES]


def test_date_column_given_a_datetime_keeps_the_day(tmp_path):
    ds = _patients_with(tmp_path, "birth_date", ["1980-01-02 13:45:00", "1980/1/2", "19800102"])
    assert ds.patients["birth_date"].tolist() == [pd.Timestamp("1980-01-02")] * 3


@pytest.mark.parametrize("value,unknown", [
    ("00000000000", True), ("11111111111", True), ("13800138000", True), ("138-0013-8000", True),
    ("12345678901", True), ("123", True), ("-", True), ("13912345678", False),
    ("+86 139 1234 5678", False), ("028-85422114", False)])
def test_stand_in_phone_numbers_are_read_as_missing(value, unknown):
    from graphkit.load import unknown_phone

    assert unknown_phone(pd.Series([value])).tolist() == [unknown]


@pytest.mark.parametrize("value,unknown", [
    ("不详", True), ("地址不详", True), ("无", True), ("暂无", True), ("未填写", True), ("NULL", True),
    ("---", True), ("0", True), ("无锡市滨湖区蠡园街道", False), ("不详村", False),
    ("四川省成都市武侯区xx路1号", False)])
def test_stand_in_addresses_are_read_as_missing(value, unknown):
    from graphkit.load import unknown_address

    assert unknown_address(pd.Series([value])).tolist() == [unknown]


def test_an_optional_date_far_out_of_range_is_a_stand_in_not_a_reason_to_reject(tmp_path):
    """Systems write 9999-12-31 for "not dead" and 0001-01-01 for "unknown": in an optional
    date column that is missing, and the patient (with every claim) stays."""
    tabs = full_tables()
    tabs["patients"][0].update(death_date="9999-12-31", birth_date="0001-01-01")
    write_dir(tmp_path, tabs)
    ds = load(tmp_path)
    assert ds.n_rejected == 0
    assert pd.isna(ds.patients["death_date"].iloc[0]) and pd.isna(ds.patients["birth_date"].iloc[0])
    assert ds.counts["patients"]["stand_ins"] == {"birth_date": 1, "death_date": 1}


def test_a_death_before_the_birth_is_no_death(tmp_path):
    """1900-01-01 as death_date is a system's "no date": read as missing, or every claim of the
    patient would count as settled after death."""
    tabs = full_tables()
    tabs["patients"][0].update(birth_date="1960-05-01", death_date="1900-01-01")
    write_dir(tmp_path, tabs)
    ds = load(tmp_path)
    assert ds.n_rejected == 0 and pd.isna(ds.patients["death_date"].iloc[0])
    assert ds.counts["patients"]["stand_ins"] == {"death_date": 1}
    assert not ds.claims.loc[ds.claims["patient_id"] == ds.patients["patient_id"].iloc[0],
                             "flag_after_death"].any()


def test_a_default_phone_or_address_loads_as_missing_and_the_row_stays(tmp_path):
    """An export's 00000000000 or 不详 is no one's phone or home: read as missing so it ties no
    one together, and the row is kept (it is not bad data, only unknown)."""
    tabs = full_tables()
    tabs["patients"][0].update(phone="00000000000", address="不详")
    tabs["claims"][0]["operator_phone"] = "13800138000"
    write_dir(tmp_path, tabs)
    ds = load(tmp_path)
    assert ds.n_rejected == 0
    first = ds.patients.iloc[0]
    assert pd.isna(first["phone"]) and pd.isna(first["address"])
    assert pd.isna(ds.claims["operator_phone"].iloc[0])
    assert ds.patients["phone"].iloc[1] == "13800000001"  # a real number is kept
    # and the report says how many were read as missing
    assert ds.counts["patients"]["stand_ins"] == {"address": 1, "phone": 1}
    assert ds.counts["claims"]["stand_ins"] == {"operator_phone": 1}
    assert ds.counts["cards"]["stand_ins"] == {}

def test_amounts_with_thousands_separators_and_currency_signs(tmp_path):
    ds = _claims_with(tmp_path, "total_amount", ["1,234.50", "¥12", " 7 ", "0", ""])
    assert ds.claims["total_amount"].tolist()[:4] == [1234.5, 12.0, 7.0, 0.0]
    assert np.isnan(ds.claims["total_amount"].tolist()[4])


@pytest.mark.parametrize("raw,expected", [("01", "01"), ("1", "01"), ("电子凭证", "01"),
                                          ("02", "02"), ("身份证", "02"), ("3", "03"),
                                          ("社保卡", "03")])
def test_card_type_is_normalised_to_two_digit_code(tmp_path, raw, expected):
    write_table(tmp_path, "patients", [{"patient_id": P1}])
    write_table(tmp_path, "claims", [{"claim_id": "S1", "patient_id": P1, "facility_id": "H1",
                                      "claim_type": "11", "settle_time": "2024-03-01"}])
    write_table(tmp_path, "cards", [{"card_id": "C1", "patient_id": P1, "card_type": raw}])
    assert load(tmp_path).cards["card_type"].tolist() == [expected]


# --------------------------------------------------------------------------------------------
# rejects: each reason, with file and line
# --------------------------------------------------------------------------------------------


def _mut(table, i, **changes):
    def f(tabs):
        tabs[table][i].update(changes)
    return f


def _append(table, row_from=0, **changes):
    def f(tabs):
        r = dict(tabs[table][row_from])
        r.update(changes)
        tabs[table].append(r)
    return f


# (id, mutation of full_tables(), table, file, line, reason)
REJECT_CASES = [
    ("missing claim_id", _mut("claims", 1, claim_id=""), "claims", 3, "missing claim_id"),
    ("missing patient_id", _mut("patients", 2, patient_id=" "), "patients", 4, "missing patient_id"),
    ("missing facility_id", _mut("claims", 2, facility_id=""), "claims", 4, "missing facility_id"),
    ("missing settle_time", _mut("claims", 0, settle_time=""), "claims", 2, "missing settle_time"),
    ("missing claim_type", _mut("claims", 0, claim_type=""), "claims", 2, "missing claim_type"),
    ("missing card_id", _mut("cards", 1, card_id=""), "cards", 3, "missing card_id"),
    ("missing item claim_id", _mut("claim_items", 2, claim_id=""), "claim_items", 4, "missing claim_id"),
    ("duplicate claim_id", _append("claims", 0), "claims", 5, "duplicate claim_id"),
    ("duplicate patient_id", _append("patients", 2), "patients", 5, "duplicate patient_id"),
    ("duplicate card_id", _append("cards", 0), "cards", 5, "duplicate card_id"),
    ("duplicate institution_id", _append("institutions", 0), "institutions", 3, "duplicate institution_id"),
    ("duplicate pharmacy_id", _append("pharmacies", 0), "pharmacies", 3, "duplicate pharmacy_id"),
    ("duplicate doctor_id", _append("doctors", 0), "doctors", 3, "duplicate doctor_id"),
    ("duplicate item_id", _append("claim_items", 0), "claim_items", 5, "duplicate item_id"),
    ("duplicate pharmacist registration", _append("pharmacists", 0), "pharmacists", 3,
     "duplicate registration"),
    ("unknown patient_id", _mut("claims", 2, patient_id="9999999999999999"), "claims", 4,
     "unknown patient_id"),
    ("unknown card_id", _mut("claims", 2, card_id="C9"), "claims", 4, "unknown card_id"),
    ("unknown facility_id", _mut("claims", 2, facility_id="H9"), "claims", 4, "unknown facility_id"),
    ("unknown doctor_id", _mut("claims", 2, doctor_id="D9"), "claims", 4, "unknown doctor_id"),
    ("unknown pharmacist_id", _mut("claims", 1, pharmacist_id="Y9"), "claims", 3, "unknown pharmacist_id"),
    ("card of unknown patient", _mut("cards", 2, patient_id="9999999999999999"), "cards", 4,
     "unknown patient_id"),
    ("doctor at unknown institution", _mut("doctors", 0, institution_id="H9"), "doctors", 2,
     "unknown institution_id"),
    ("pharmacist at unknown pharmacy", _mut("pharmacists", 0, pharmacy_id="P9"), "pharmacists", 2,
     "unknown pharmacy_id"),
    ("item of unknown claim", _mut("claim_items", 2, claim_id="S9"), "claim_items", 4, "unknown claim_id"),
    ("unparseable settle_time", _mut("claims", 2, settle_time="2024-13-45"), "claims", 4,
     "unparseable settle_time"),
    ("unparseable admit_date", _mut("claims", 0, admit_date="yesterday"), "claims", 2,
     "unparseable admit_date"),
    ("unparseable birth_date", _mut("patients", 0, birth_date="1980-02-30"), "patients", 2,
     "unparseable birth_date"),
    ("unparseable total_amount", _mut("claims", 2, total_amount="12abc"), "claims", 4,
     "unparseable total_amount"),
    ("infinite fund_amount", _mut("claims", 2, fund_amount="inf"), "claims", 4, "unparseable fund_amount"),
    ("unparseable quantity", _mut("claim_items", 0, quantity="two"), "claim_items", 2,
     "unparseable quantity"),
    ("negative total_amount", _mut("claims", 2, total_amount="-30"), "claims", 4, "negative total_amount"),
    # 1e308 is finite, but a sum of two overflows (rings.json cannot hold inf)
    ("implausible total_amount", _mut("claims", 2, total_amount="1e308"), "claims", 4,
     "implausible total_amount (10 billion or more)"),
    ("implausible item amount", _mut("claim_items", 2, amount="20000000000"), "claim_items", 4,
     "implausible amount (10 billion or more)"),
    # past 2262 no pandas time exists; before 1900 no insured person was born
    ("settle_time in year 9999", _mut("claims", 2, settle_time="9999-12-31 23:59:59"), "claims", 4,
     "settle_time outside 1900-2199"),
    ("negative fund_amount", _mut("claims", 1, fund_amount="-0.01"), "claims", 3, "negative fund_amount"),
    ("negative item amount", _mut("claim_items", 2, amount="-1"), "claim_items", 4, "negative amount"),
    ("discharge before admission", _mut("claims", 0, admit_date="2024-03-05", discharge_date="2024-03-01"),
     "claims", 2, "discharge before admission"),
    ("unknown claim_type", _mut("claims", 2, claim_type="99"), "claims", 4, "unknown claim_type"),
]


@pytest.mark.parametrize("mutate,table,line,reason", [c[1:] for c in REJECT_CASES],
                         ids=[c[0] for c in REJECT_CASES])
def test_each_reject_reason_names_file_and_line(tmp_path, mutate, table, line, reason):
    tabs = full_tables()
    mutate(tabs)
    write_dir(tmp_path, tabs)
    ds = load(tmp_path)
    assert rejects_of(ds, table) == [(f"{table}.csv", line, reason)]
    assert ds.counts[table]["reasons"] == {reason: 1}


def test_item_of_a_rejected_claim_is_rejected_with_its_own_reason(tmp_path):
    tabs = full_tables()
    tabs["claims"][1]["patient_id"] = "9999999999999999"
    write_dir(tmp_path, tabs)
    ds = load(tmp_path)
    assert rejects_of(ds, "claims") == [("claims.csv", 3, "unknown patient_id")]
    assert rejects_of(ds, "claim_items") == [("claim_items.csv", 3, "claim rejected")]


def test_first_valid_row_of_a_duplicate_key_wins(tmp_path):
    tabs = full_tables()
    tabs["claims"].append(dict(tabs["claims"][0], total_amount="999"))
    write_dir(tmp_path, tabs)
    ds = load(tmp_path)
    assert ds.claims.loc[ds.claims["claim_id"] == "S1", "total_amount"].tolist() == [1000.0]


def test_invalid_first_row_does_not_make_the_valid_duplicate_a_duplicate(tmp_path):
    tabs = full_tables()
    tabs["claims"].insert(0, dict(tabs["claims"][0], total_amount="-1"))
    write_dir(tmp_path, tabs)
    ds = load(tmp_path)
    assert rejects_of(ds, "claims") == [("claims.csv", 2, "negative total_amount")]
    assert "S1" in ds.claims["claim_id"].tolist()


@pytest.mark.parametrize("row,got", [("S9,%s,H1,11" % P1, 4), ("S9,%s,H1,11,2024-03-01,x" % P1, 6)])
def test_wrong_field_count_is_rejected_with_its_line(tmp_path, row, got):
    write_table(tmp_path, "patients", [{"patient_id": P1}])
    text = f"claim_id,patient_id,facility_id,claim_type,settle_time\nS1,{P1},H1,11,2024-03-01\n{row}\n" \
           f"S2,{P1},H1,11,2024-03-01\n"
    write_csv_text(tmp_path, "claims.csv", text)
    ds = load(tmp_path)
    assert rejects_of(ds, "claims") == [("claims.csv", 3, f"expected 5 fields, got {got}")]
    assert ds.claims["claim_id"].tolist() == ["S1", "S2"]


def test_line_numbers_count_physical_lines_across_quoted_newlines(tmp_path):
    write_table(tmp_path, "patients", [{"patient_id": P1}])
    text = ("claim_id,patient_id,facility_id,claim_type,settle_time,diagnosis_code\n"
            f'S1,{P1},H1,11,2024-03-01,"line one\nline two\nline three"\n'
            f"S2,{P1},H1,11,2024-03-01,I10\n"
            "\n"
            f"S3,9999,H1,11,2024-03-01,I10\n")
    write_csv_text(tmp_path, "claims.csv", text)
    ds = load(tmp_path)
    assert ds.claims["_line"].tolist() == [2, 5]
    assert ds.claims["diagnosis_code"].tolist()[0] == "line one\nline two\nline three"
    assert rejects_of(ds, "claims") == [("claims.csv", 7, "unknown patient_id")]


def test_blank_lines_are_not_rows_but_count_for_line_numbers(tmp_path):
    write_table(tmp_path, "patients", [{"patient_id": P1}])
    text = f"claim_id,patient_id,facility_id,claim_type,settle_time\n\nS1,{P1},H1,11,2024-03-01\n\n\n" \
           f"S2,9999,H1,11,2024-03-01\n"
    write_csv_text(tmp_path, "claims.csv", text)
    ds = load(tmp_path)
    assert ds.counts["claims"]["read"] == 2
    assert rejects_of(ds, "claims") == [("claims.csv", 6, "unknown patient_id")]


def test_rejects_file_holds_source_file_line_original_values_and_reason(tmp_path):
    d = tmp_path / "data"
    tabs = full_tables()
    tabs["claims"][2]["total_amount"] = "-30"
    write_dir(d, tabs, header="chinese", encoding="gbk")
    out = tmp_path / "rejects.csv"
    load(d, rejects_path=out)
    with open(out, encoding="utf-8-sig", newline="") as fp:
        rows = [r for r in csv.DictReader(fp) if r["table"] == "claims"]
    assert len(rows) == 1
    r = rows[0]
    assert list(r) == ["table", "file", "line", "reason", "values"]
    assert (r["table"], r["file"], r["line"], r["reason"]) == ("claims", "claims.csv", "4",
                                                               "negative total_amount")
    values = json.loads(r["values"])
    assert values["医疗费总额"] == "-30"
    assert values["人员编号"] == P3
    assert values["结算ID"] == "S3"


def test_no_rejects_file_is_written_unless_asked(tmp_path):
    write_dir(tmp_path / "data", full_tables())
    load(tmp_path / "data")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


# --------------------------------------------------------------------------------------------
# flags, implicit cards, derived columns
# --------------------------------------------------------------------------------------------


def test_claim_after_death_is_flagged_not_rejected(tmp_path):
    write_dir(tmp_path, full_tables())
    ds = load(tmp_path)
    assert ds.counts["claims"]["rejected"] == 0
    assert ds.claims.set_index("claim_id")["flag_after_death"].to_dict() == {"S1": False, "S2": True,
                                                                            "S3": False}


def test_claim_on_the_day_of_death_is_not_flagged(tmp_path):
    tabs = full_tables()
    tabs["claims"][1]["settle_time"] = "2024-02-01 23:59:59"
    write_dir(tmp_path, tabs)
    assert load(tmp_path).claims["flag_after_death"].tolist() == [False, False, False]


def test_trace_code_not_20_digits_is_flagged_not_rejected(tmp_path):
    tabs = full_tables()
    tabs["claim_items"].append({"item_id": "I4", "claim_id": "S3", "trace_code": "8123456789012345678X"})
    write_dir(tmp_path, tabs)
    ds = load(tmp_path)
    assert ds.counts["claim_items"]["rejected"] == 0
    assert ds.claim_items.set_index("item_id")["flag_trace_code_format"].to_dict() == {
        "I1": False, "I2": True, "I3": False, "I4": True}


def test_missing_cards_table_gives_one_implicit_card_per_patient(tmp_path):
    write_dir(tmp_path, minimal_tables())
    ds = load(tmp_path)
    assert ds.cards["card_id"].tolist() == [P1, P2]
    assert ds.cards["patient_id"].tolist() == [P1, P2]
    assert ds.claims["card_id"].tolist() == [P1, P2]
    assert ds.claims["holder_id"].tolist() == [P1, P2]
    assert "cards" not in ds.counts


def test_claim_naming_a_patient_id_as_card_is_accepted_without_cards_table(tmp_path):
    tabs = minimal_tables()
    tabs["claims"][0]["card_id"] = P1
    tabs["claims"][1]["card_id"] = P1  # patient 2 presents patient 1's implicit card
    write_dir(tmp_path, tabs)
    ds = load(tmp_path)
    assert ds.claims["holder_id"].tolist() == [P1, P1]
    assert ds.claims["patient_id"].tolist() == [P1, P2]


def test_cards_named_by_claims_without_a_cards_table_are_kept(tmp_path):
    """Settlement exports name the card (就诊凭证编号) but seldom come with a cards table: each
    such card is held by the patient it was settled for most often, and no claim is lost
    (before, every claim was rejected as 'unknown card_id')."""
    tabs = minimal_tables()
    base = tabs["claims"][0]
    tabs["claims"] = [dict(base, claim_id=f"S{i}", card_id=card, patient_id=pat)
                      for i, (card, pat) in enumerate([("E01", P1), ("E01", P1), ("E01", P2),
                                                       ("E02", P2), ("E03", P1), ("E03", P2)])]
    write_dir(tmp_path, tabs)
    ds = load(tmp_path)
    assert ds.n_rejected == 0
    assert ds.cards.set_index("card_id")["patient_id"].to_dict() == {
        P1: P1, P2: P2, "E01": P1, "E02": P2, "E03": P1}  # E03: a tie, the smaller id
    assert ds.claims["holder_id"].tolist() == [P1, P1, P1, P2, P1, P1]
    assert ds.claims["flag_card_holder_mismatch"].tolist() == [False, False, True, False, False, True]


def test_holder_id_is_the_patient_of_the_card_presented(tmp_path):
    tabs = full_tables()
    tabs["claims"][2]["card_id"] = "C1"  # patient 3 presents patient 1's card
    write_dir(tmp_path, tabs)
    ds = load(tmp_path)
    assert ds.claims["holder_id"].tolist() == [P1, P2, P1]


def test_claim_without_card_gets_its_patients_first_card(tmp_path):
    tabs = full_tables()
    tabs["cards"].append({"card_id": "C0", "patient_id": P1, "card_type": "01"})
    tabs["claims"][0]["card_id"] = ""
    write_dir(tmp_path, tabs)
    ds = load(tmp_path)
    assert ds.claims["card_id"].tolist() == ["C0", "C2", "C3"]
    assert ds.claims["card_inferred"].tolist() == [True, False, False]


def test_card_presented_by_someone_else_is_flagged(tmp_path):
    tabs = full_tables()
    tabs["claims"][2]["card_id"] = "C1"
    write_dir(tmp_path, tabs)
    assert load(tmp_path).claims["flag_card_holder_mismatch"].tolist() == [False, False, True]


def test_facility_type_and_settle_date(tmp_path):
    tabs = full_tables()
    write_dir(tmp_path, tabs)
    ds = load(tmp_path)
    assert ds.claims["facility_type"].tolist() == ["institution", "pharmacy", "institution"]
    assert ds.claims["settle_date"].tolist() == [pd.Timestamp("2024-03-05"), pd.Timestamp("2024-03-06"),
                                                 pd.Timestamp("2024-03-07")]


def test_facility_type_without_facility_tables_is_what_was_settled_there(tmp_path):
    """No institutions or pharmacies table: a facility where only pharmacy purchases were
    settled is a pharmacy, any other an institution (graphkit.facilities, the one rule)."""
    tabs = minimal_tables()
    write_dir(tmp_path, tabs)
    kinds = [c["claim_type"] for c in tabs["claims"]]
    expected = ["pharmacy" if k == "pharmacy" else "institution" for k in kinds]
    assert load(tmp_path).claims["facility_type"].tolist() == expected
    assert set(expected) == {"institution", "pharmacy"}


def test_absent_optional_tables_are_empty_with_contract_columns(tmp_path):
    write_dir(tmp_path, minimal_tables())
    ds = load(tmp_path)
    for t in ("institutions", "pharmacies", "doctors", "pharmacists", "claim_items"):
        df = getattr(ds, t)
        assert len(df) == 0
        assert set(TABLES[t].column_names) <= set(df.columns), t


def test_empty_patients_table_rejects_every_claim(tmp_path):
    write_csv_text(tmp_path, "patients.csv", "patient_id,name\n")
    write_table(tmp_path, "claims", minimal_tables()["claims"])
    ds = load(tmp_path)
    assert ds.counts["claims"] == {"read": 2, "accepted": 0, "rejected": 2,
                                   "reasons": {"unknown patient_id": 2}, "stand_ins": {}}


# --------------------------------------------------------------------------------------------
# directory-level behaviour and errors
# --------------------------------------------------------------------------------------------


def test_progress_callable_receives_each_present_table_in_load_order(tmp_path):
    write_dir(tmp_path, full_tables())
    seen: list[str] = []
    load(tmp_path, progress=seen.append)
    assert seen == ["patients", "cards", "institutions", "pharmacies", "doctors", "pharmacists",
                    "claims", "claim_items"]


def test_progress_true_reports_on_stderr_only(tmp_path, capsys):
    write_dir(tmp_path, minimal_tables())
    load(tmp_path, progress=True)
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == ["loading patients ...", "loading claims ..."]


def test_other_files_are_listed_as_ignored(tmp_path):
    write_dir(tmp_path, minimal_tables())
    write_raw(tmp_path, "truth.csv", "ring_id,typology,member_type,member_id\n")
    write_raw(tmp_path, "README.txt", "notes")
    assert load(tmp_path).ignored == ["README.txt", "truth.csv"]


def test_fingerprint_is_stable_and_changes_with_content(tmp_path):
    write_dir(tmp_path, minimal_tables())
    a, b = load(tmp_path).fingerprint, load(tmp_path).fingerprint
    tabs = minimal_tables()
    tabs["claims"][0]["total_amount"] = "10.6"
    write_dir(tmp_path, tabs)
    c = load(tmp_path).fingerprint
    assert a == b and len(a) == 64 and c != a


@pytest.mark.parametrize("table", ["patients", "claims"])
def test_missing_required_table_raises_load_error_naming_it(tmp_path, table):
    write_dir(tmp_path, {t: r for t, r in minimal_tables().items() if t != table})
    with pytest.raises(LoadError, match=f"required table '{table}' not found"):
        gk.load(tmp_path)


@pytest.mark.parametrize("table,column,header", [
    ("patients", "patient_id", {"patient_id": "pid"}),
    ("claims", "settle_time", {"settle_time": "time"}),
    ("claims", "claim_type", {"claim_type": "type"}),
    ("claims", "facility_id", {"facility_id": "fac"}),
])
def test_missing_required_column_raises_load_error_naming_file_and_column(tmp_path, table, column,
                                                                          header):
    tabs = minimal_tables()
    write_dir(tmp_path, {t: r for t, r in tabs.items() if t != table})
    write_table(tmp_path, table, tabs[table], header=header)
    with pytest.raises(LoadError) as ei:
        gk.load(tmp_path)
    assert ei.value.column == column
    assert ei.value.file == str(tmp_path / f"{table}.csv")
    assert f"{table}.csv: missing required column '{column}'" in str(ei.value)


@pytest.mark.parametrize("name,content,message", [
    ("claims.csv.gz", b"not gzip at all", "cannot read file"),
    ("claims.csv.gz", b"\x1f\x8b\x08\x00corrupt deflate stream", "cannot read file"),
    ("claims.csv.gz", gzip.compress(b"claim_id,patient_id\n" * 50)[:40], "cannot read file"),
    ("claims.csv", "claim_id,patient_id\nS\xe9,1\n".encode("latin-1") + bytes(range(128, 256)),
     "cannot decode"),
    ("claims.csv", b"", "file is empty"),
    ("claims.csv", b"\xef\xbb\xbfclaim_id,patient_id\nS1,\xe5\xbc", "cannot decode"),  # BOM, cut char
    ("claims.csv", "claim_id,patient_id\n".encode("utf-16") + b"\x00", "cannot decode"),
    ("claims.parquet", b"PAR1 not really parquet", "cannot read Parquet"),
])
def test_unreadable_file_raises_load_error_naming_it(tmp_path, name, content, message):
    write_table(tmp_path, "patients", [{"patient_id": P1}])
    write_raw(tmp_path, name, content)
    with pytest.raises(LoadError, match=message) as ei:
        gk.load(tmp_path)
    assert name in str(ei.value)


def test_directory_named_like_a_table_raises_load_error(tmp_path):
    write_dir(tmp_path, minimal_tables())
    (tmp_path / "cards.csv").mkdir()
    with pytest.raises(LoadError, match="cards.csv: not a regular file"):
        gk.load(tmp_path)


def test_two_files_for_one_table_raise_load_error(tmp_path):
    write_dir(tmp_path, minimal_tables())
    write_table(tmp_path, "claims", minimal_tables()["claims"], fmt="parquet")
    with pytest.raises(LoadError, match="two files for table 'claims'"):
        gk.load(tmp_path)


def test_missing_data_dir_raises_load_error(tmp_path):
    with pytest.raises(LoadError, match="does not exist"):
        gk.load(tmp_path / "nope")


# --------------------------------------------------------------------------------------------
# conservation on the shipped samples
# --------------------------------------------------------------------------------------------

SAMPLES = sorted(p for p in (REPO / "data_samples").glob("*") if p.is_dir())


@pytest.mark.parametrize("data_dir", SAMPLES, ids=[p.name for p in SAMPLES])
def test_counts_are_conserved_on_every_sample(data_dir):
    ds = load(data_dir)
    assert ds.counts["claims"]["read"] > 0


# --------------------------------------------------------------------------------------------
# property: malformed input never crashes and every row is accounted for
# --------------------------------------------------------------------------------------------

_ALPHABET = st.sampled_from(list('abcXYZ019 ,"\n\r\t;-./:张男女𠀀㐀¥') + ["\x00", "\ufeff"])
_FIELD = st.one_of(
    st.text(_ALPHABET, max_size=12),
    st.sampled_from(["", P1, P2, "S1", "H1", "11", "门诊", "41", "2024-03-01", "2024/3/1", "20240301",
                     "-5", "1,234.5", "inf", "nan", '"', '""', "\"a,b\"", "x\ny"]),
)
_ROW = st.lists(_FIELD, min_size=0, max_size=8)
CLAIM_HEADERS = ["claim_id", "patient_id", "facility_id", "claim_type", "settle_time", "total_amount"]


@st.composite
def _csv_file(draw, headers):
    """Bytes of a CSV file that may be malformed in any way."""
    kind = draw(st.sampled_from(["good", "good", "good", "empty", "junk"]))
    if kind == "empty":
        return b""
    encoding = draw(st.sampled_from(ENCODINGS))
    if kind == "junk":
        text = draw(st.text(_ALPHABET, max_size=200))
        return text.encode(encoding, errors="replace")
    rows = draw(st.lists(_ROW, max_size=12))
    if draw(st.booleans()):
        rows.append(["S1", P1, "H1", "11", "2024-03-01", "x" * 100_000])
    lines = [",".join(headers)]
    for r in rows:
        if draw(st.booleans()):
            lines.append(",".join(r))  # raw: stray quotes and delimiters stay as they are
        else:
            buf = csv_bytes(["h"] * max(1, len(r)), [r] if r else [[""]]).decode()
            lines.append(buf.split("\n", 1)[1].rstrip("\n"))
    text = draw(st.sampled_from(["\n", "\r\n"])).join(lines)
    if draw(st.booleans()):
        text += "\n"
    data = text.encode(encoding, errors="replace")
    if draw(st.booleans()):
        data = gzip.compress(data, mtime=0) if draw(st.booleans()) else data[: draw(st.integers(0, len(data)))]
    return data


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.data_too_large])
@given(patients=_csv_file(["patient_id", "name", "gender", "death_date"]),
       claims=_csv_file(CLAIM_HEADERS), claims_gz=st.booleans())
def test_malformed_input_raises_load_error_or_conserves_counts(tmp_path_factory, patients, claims,
                                                                claims_gz):
    d = tmp_path_factory.mktemp("prop")
    write_raw(d, "patients.csv", patients)
    write_raw(d, "claims.csv.gz" if claims_gz else "claims.csv", claims, gz=claims_gz)
    try:
        ds = gk.load(d)
    except LoadError as exc:
        assert str(exc) and "\n" not in str(exc).strip()
        return
    assert_conserved(ds)


_LOADER = __import__("sys").modules["graphkit.load"]
_CELL = st.one_of(st.text(st.sampled_from(list("ab1 ;张\t") + ["𠀀"]), max_size=4),
                  st.text(st.sampled_from(list('ab1 ,"\n\r;张\t') + ["𠀀"]), max_size=6))


@settings(max_examples=150, deadline=None)
@given(rows=st.lists(st.tuples(st.lists(_CELL, min_size=3, max_size=3),
                               st.sampled_from([False, False, False, True])), max_size=8),
       newline=st.sampled_from(["\n", "\r\n"]), quoted_header=st.booleans())
def test_fast_csv_path_agrees_with_the_exact_path_whenever_it_is_taken(rows, newline, quoted_header):
    header = ["a", "b", "c"]
    lines = ['"a","b","c"' if quoted_header else "a,b,c"]
    for cells, raw in rows:
        if raw:  # stray quotes and delimiters exactly as typed
            lines.append(",".join(cells))
        else:
            lines.append(csv_bytes(["x"], [cells], newline=newline).decode().split(newline, 1)[1]
                         .removesuffix(newline))
    data = (newline.join(lines) + newline).encode()
    fast = _LOADER._parse_fast(data, header)
    exact = _LOADER._parse_python(data, header)
    event("fast path taken" if fast is not None else "exact path only")
    if fast is not None:
        assert exact.bad == []
        pd.testing.assert_frame_equal(fast.frame.reset_index(drop=True),
                                      exact.frame.reset_index(drop=True))


_JSON_TEXT = st.one_of(st.none(), st.text(max_size=8),
                       st.text(st.sampled_from(list('a"\\/\b\f\n\r\t\x00\x01\x1f\x7f张𠀀\u2028')), max_size=6))


@settings(max_examples=200, deadline=None)
@given(header=st.lists(st.sampled_from(["a", "b", '"q"', "\\", "张", "a"]), min_size=1, max_size=4),
       rows=st.lists(st.lists(_JSON_TEXT, min_size=4, max_size=4), min_size=1, max_size=5))
def test_rejected_values_are_exactly_the_json_of_the_original_row(header, rows):
    frame = pd.DataFrame({f"c{i}": pd.Series([r[i] for r in rows], dtype="str")
                          for i in range(len(header))})
    got = _LOADER._json_rows(header, frame).tolist()
    want = [json.dumps({h: r[i] for i, h in enumerate(header)}, ensure_ascii=False) for r in rows]
    assert got == want
    assert [json.loads(g) for g in got] == [json.loads(w) for w in want]
