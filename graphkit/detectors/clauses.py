"""The rule -> 负面清单(2025) clause table, and the evidence line every detector cites a rule with.

Each rule a detector fires is named in a ring's evidence together with the clause of the
使用医疗保障基金行为负面清单(2025年) it falls under (seeds/003).
"""

from __future__ import annotations

from graphkit.rings import Evidence

__all__ = ["CLAUSES", "evidence"]

#: rule -> 负面清单(2025) clause (seeds/003, 使用医疗保障基金行为负面清单(2025年))
CLAUSES = {
    "lockstep_swipes": "负面清单(2025) 四(2) 非法收取参保人员医保凭证刷卡结付或套现",
    "lockstep_swipes_pharmacy": "负面清单(2025) 二(7) 收集并空刷参保人员医保凭证",
    "lockstep_swipes_institution": "负面清单(2025) 一(2) 收集医保凭证空刷套刷",
    "shared_controller": "负面清单(2025) 四(2) 非法收取参保人员医保凭证",
    "unrelated_holders": "负面清单(2025) 四(2) 非法收取参保人员医保凭证",
    "facility_concentration": "负面清单(2025) 二(6) 串通勾结利用参保人医保凭证空刷",
    "claims_after_death": "负面清单(2025) 三(2) 将本人的医保凭证交由他人冒名使用（冒用已故人员身份）",
    "diagnosis_sex_age_mismatch": "负面清单(2025) 一(7) 诊断与患者性别或年龄不符",
    "two_places_one_day": "负面清单(2025) 二(5)/一(7) 不执行实名就医购药、不核验医保凭证",
    "overlapping_stays": "负面清单(2025) 一(1) 诱导、协助他人冒名或者虚假就医",
    "phone_presents_unrelated_cards": "负面清单(2025) 三(2) 将本人的医保凭证交由他人冒名使用",
    "device_presents_unrelated_cards": "负面清单(2025) 三(2) 将本人的医保凭证交由他人冒名使用",
    "presented_by_another_household": "负面清单(2025) 三(2) 将本人的医保凭证交由他人冒名使用",
    "sits_with_unrelated_cards": "负面清单(2025) 三(2) 将本人的医保凭证交由他人冒名使用",
    "sits_with_one_person": "负面清单(2025) 三(2) 将本人的医保凭证交由他人冒名使用",
    "trace_code_resettled": "负面清单(2025) 二(11) 参与或协助倒卖“回流药”",
    "key_drug_excess": "负面清单(2025) 三(4) 利用享受医疗保障待遇的机会转卖药品",
    "doctor_shopping": "负面清单(2025) 一(11) 超量开药、重复开药",
    "repeated_co_admission": "负面清单(2025) 四(3) 协助医院组织参保人员办理虚假住院、挂床住院",
    "similar_stays": "负面清单(2025) 一(6) 分解住院、挂床住院",
    "recruited_from_one_place": "负面清单(2025) 一(1) 诱导、协助他人虚假就医",
    "booked_by_one_organiser": "负面清单(2025) 四(3) 协助医院组织参保人员办理虚假住院、挂床住院",
    "frequent_admission": "负面清单(2025) 一(13) 频繁住院或无指征住院",
}


def evidence(rule: str, detail: str, count: int = 0, clause: str | None = None) -> Evidence:
    """One line of a ring's evidence: ``rule`` fired, cited with its clause from :data:`CLAUSES`
    (or ``clause`` when given), what it saw (``detail``) and on how many claims (``count``).
    A rule with no clause and none given is a mistake in the detector, never an evidence line
    citing nothing: KeyError."""
    if clause is None and rule not in CLAUSES:
        raise KeyError(f"rule {rule!r} has no clause in CLAUSES and none was given")
    return Evidence(rule=rule, clause=clause or CLAUSES[rule], detail=detail, count=int(count))
