"""The rings document a notebook user meets (graphkit.rings.RingsDocument)."""

from __future__ import annotations

import pytest

from graphkit.contract import typology_name
from graphkit.errors import RingsFileError, SettingsError
from graphkit.rings import Evidence, Member, Ring, RingsDocument


def _doc():
    rings = (Ring("gang", 0.9, (Member("patient", "A"), Member("card", "CA"), Member("pharmacy", "P1")),
                  claims=("S1", "S2"), fund_amount=120.5, ring_id="R0001",
                  evidence=(Evidence("lockstep_swipes", "负面清单(2025) 四(2)", "x", 3),),
                  case_id="GK-1", case_status="new", repeat=("pharmacy:P1",)),
             Ring("fake_admission", 0.7, (Member("patient", "B"),), ring_id="R0002",
                  also=("impersonation",), fund_amount=1000.0))
    return RingsDocument(rings=rings, fingerprint="ab" * 32)


def test_a_documents_repr_is_one_short_line():
    text = repr(_doc())
    assert text == ("<RingsDocument 2 rings (fake_admission 1, gang 1); fund 1,120.50 元; "
                    "input abababababab>")


def test_rings_are_found_by_id_and_rank():
    doc = _doc()
    assert doc["R0002"].typology == "fake_admission" and doc[0].ring_id == "R0001"
    with pytest.raises(RingsFileError, match="R0009"):
        doc["R0009"]
    assert len(doc) == 2 and [r.ring_id for r in doc] == ["R0001", "R0002"]


def test_one_row_per_ring_and_one_per_member():
    f = _doc().to_frame()
    assert f.shape[0] == 2 and list(f["patients"]) == [1, 1] and list(f["cards"]) == [1, 0]
    assert f.loc[1, "also"] == "impersonation" and f.loc[0, "case_status"] == "new"
    m = _doc().members_frame()
    assert m.shape == (4, 8)
    assert list(m.loc[m["member_type"] == "pharmacy", "repeat"]) == [True]


def test_typologies_are_named_in_english_or_chinese_and_an_unknown_name_is_an_error():
    doc = _doc()
    assert [r.ring_id for r in doc.of_typology("职业骗保团伙")] == ["R0001"]
    assert [r.ring_id for r in doc.of_typology("挂床住院")] == ["R0002"]
    assert [r.ring_id for r in doc.of_typology("impersonation")] == ["R0002"]  # via also
    with pytest.raises(SettingsError, match="valid: gang"):
        doc.of_typology("gangs")
    assert typology_name("倒卖医保药品") == "diversion"


def test_every_role_the_detectors_give_on_the_sample_has_a_chinese_name(tmp_path):
    """Roles are read by investigators and 公安 in Chinese: rings.csv carries role_zh beside
    role, and no role the detectors give on the sample is left untranslated."""
    from pathlib import Path

    import graphkit as gk
    from graphkit.contract import ROLE_ZH
    from graphkit.rings import rings_csv_text

    doc = gk.find_rings(gk.load(Path(__file__).resolve().parents[1] / "data_samples" / "demo"))
    roles = {m.role for r in doc.rings for m in r.members if m.role}
    assert roles and roles <= set(ROLE_ZH), sorted(roles - set(ROLE_ZH))
    header, first = rings_csv_text(doc).splitlines()[:2]
    assert header.endswith(",role,role_zh")
    role, zh = first.split(",")[-2:]
    assert zh == ROLE_ZH[role]
