"""One settings object for ring detection, written whole into every rings.json.

Load from a JSON file (``--settings FILE``) or a dict; unknown keys are an error so a typo never
silently falls back to a default.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any

from graphkit._files import read_json
from graphkit.errors import SettingsError

__all__ = ["Settings", "PeopleSettings", "GangSettings", "ImpersonationSettings",
           "DiversionSettings", "FakeAdmissionSettings", "load_settings"]


@dataclass(frozen=True)
class PeopleSettings:
    #: a phone registered to this many people or more is no family's (an institution's line, or
    #: a collector who registered many people's accounts): it makes no household and names no
    #: user or organiser
    shared_line_owners: int = 10
    #: ages (years, from inclusive, to exclusive) of a phone owner who can present other
    #: people's 电子凭证 from it (a household's children present no one's cards)
    user_min_age: float = 16.0
    user_max_age: float = 80.0


@dataclass(frozen=True)
class GangSettings:
    #: consecutive swipes at one facility no further apart than this form one burst
    burst_gap_minutes: float = 20.0
    #: at a quiet facility the allowed gap grows to this fraction of its median gap between
    #: settlements on one day (a session spread over an afternoon stands out where nobody else
    #: comes for hours) ...
    burst_gap_quiet_share: float = 0.5
    #: ... up to this many minutes
    burst_gap_max_minutes: float = 45.0
    #: a burst must hold at least this many distinct cards
    burst_min_cards: int = 3
    #: bursts larger than this are busy-hour crowds, not one operator
    burst_max_cards: int = 60
    #: two cards are linked when they burst together on at least this many distinct days
    min_shared_days: int = 2
    #: a reported gang has at least this many cards
    min_cards: int = 4
    #: a card is collected at a facility (swiped there by an organiser, not brought by its
    #: holder) when at least this share of its outpatient/pharmacy settlements there fall in
    #: bursts; so is a phone or terminal a controller when this share of its settlements do
    collected_min_share: float = 0.5
    #: two bursts at a facility are one organiser's sessions when they share this many cards
    #: collected there (one is enough on the same controlling terminal or controller phone)
    link_min_cards: int = 2
    #: a community clinic's refill day falls on one date each month give or take this many days
    refill_day_slack_days: int = 2
    #: ... and holds at least this share of the group's swipe days (its patients also meet there
    #: now and then on other days)
    refill_day_min_share: float = 0.75
    #: a look-alike cohort's score (dialysis rhythm, chronic refill day) is multiplied by this
    lookalike_discount: float = 0.2
    #: where no diagnosis is on record (none on a group's swipes at an institution), the rhythm
    #: alone tells a treatment schedule: three weekdays holding 90% of at least this many days
    schedule_min_days: int = 12


@dataclass(frozen=True)
class ImpersonationSettings:
    #: claims settled within this many days after death are an in-hospital death being settled
    death_grace_days: int = 0
    #: two stays overlapping by at most this many days are a transfer, not impersonation
    transfer_overlap_days: int = 1
    #: two claims in different regions on one person's cards within this many hours are "two
    #: places"
    two_places_hours: float = 3.0
    #: so are two outpatient visits on one person's cards settled at two institutions within
    #: this many minutes, in any region (no one travels, registers and sees a second doctor
    #: in that time)
    two_institutions_minutes: float = 30.0
    #: "two places" alone makes a ring when seen on at least this many days (a referral across
    #: districts happens now and then; someone else using the card goes on)
    two_places_alone_min_days: int = 3
    #: ... and on at least this share of the days its card was at an institution (someone at
    #: the doctor's every other day meets "two places" by chance now and then)
    two_places_alone_min_share: float = 0.1
    #: an operator phone presenting cards of at least this many unrelated households
    phone_min_households: int = 2
    #: a device used with more than this many cards is a facility terminal, not a controller
    device_max_cards: int = 30
    #: an operator phone that presented more than this many cards is a facility's line or an
    #: export's default number, not a person's phone: it presents for no one, controls nothing
    phone_max_cards: int = 15
    #: a phone that presented at least this many other households' cards at one facility on
    #: one day is a collector's (gang, organised admission): it presents for no impersonation
    collector_min_cards: int = 3
    #: a phone presenting unrelated people's cards makes a ring on its own when it presented
    #: two or more people's cards at least this many times each (a favour is not repeated)
    present_min: int = 3
    #: a suspect card's outpatient visit and another card's settled next in the same doctor's
    #: queue at most this many minutes apart are one sitting: the user with their own card and
    #: the borrowed one
    session_minutes: float = 20.0
    #: one sitting is chance; on at least this many days it ties the card to the other card's
    #: holder, who is the one using it
    session_min_days: int = 2
    #: ... and on at least this share of the days the card came to that facility (a borrowed
    #: card comes along with its user; two regulars of a busy counter meet now and then)
    session_min_share: float = 0.5
    #: a card whose only signal is a diagnosis impossible for its holder is a ring on its own
    #: when that diagnosis was made on at least this many days at two or more facilities, or on
    #: one day more at one facility (a coding slip happens once; copied into the next visit's
    #: record at the same place, twice)
    mismatch_alone_min_days: int = 2


@dataclass(frozen=True)
class DiversionSettings:
    #: key-drug quantity per card per year above median x this is far beyond need
    excess_factor: float = 4.0
    #: and above this robust z-score (median / MAD)
    excess_z: float = 6.0
    #: a mule obtains from at least this many distinct doctors or facilities
    min_sources: int = 3
    #: a re-settled pack counts when the second settlement is at another facility
    min_resettled_codes: int = 2
    #: a card the packs came back on is the reseller's straw card (a member, not a walk-in
    #: buyer) when the reseller settles at least this many re-settled packs on it ...
    straw_min_packs: int = 3
    #: ... on at least this many distinct days ...
    straw_min_days: int = 3
    #: ... and those are more than this share of all re-settled packs settled on the card
    straw_min_share: float = 0.5
    #: at one reseller and drug, two groups of mules are one collector's when more than this
    #: share of one group's re-settled packs there were prescribed by the other group's doctors
    collector_min_share: float = 0.5


@dataclass(frozen=True)
class FakeAdmissionSettings:
    #: admissions at one institution within this many days of each other are co-admissions
    admit_window_days: int = 2
    #: two patients are linked when co-admitted on at least this many separate occasions
    min_episodes: int = 2
    #: a reported group has at least this many patients
    min_patients: int = 3
    #: also take in patients admitted in the group's waves from the group's home place for one
    #: of its diagnoses (a recruit who went along once)
    attach_wave_mates: bool = True
    #: a home place that came back to one institution in waves is a group when those waves hold
    #: at least this share of the place's admissions there
    place_wave_min_share: float = 0.5
    #: an institution admitting more than this many people on one day is a big hospital at its
    #: routine: being admitted there that day ties no two of them together (and pairing them
    #: all would take memory by the square); recruited groups still show by their home place
    busy_day_admissions: int = 100
    #: an institution's co-admitted patients are split into groups (Leiden, constant Potts model)
    #: whose mean pair weight is at least this: a pair weighs its shared waves, times the share of
    #: both patients' stays there that were together (squared) and how alike their diagnoses
    #: were, times 3 from one home place (see ``fake_admission.pair_weights``)
    group_min_weight: float = 0.15


@dataclass(frozen=True)
class Settings:
    """Every parameter that shapes ``find_rings``; written whole into rings.json ``params``.

    Examples
    --------
    >>> from graphkit.settings import Settings
    >>> s = Settings.from_dict({"min_score": 0.6, "gang": {"min_cards": 5}})
    >>> (s.min_score, s.gang.min_cards)
    (0.6, 5)
    """

    #: rings scoring below this are not reported (the default is what graphkit calls suspect)
    min_score: float = 0.5
    typologies: tuple[str, ...] = ("gang", "impersonation", "diversion", "fake_admission")
    #: seed for every randomised step (community detection)
    seed: int = 42
    people: PeopleSettings = field(default_factory=PeopleSettings)
    gang: GangSettings = field(default_factory=GangSettings)
    impersonation: ImpersonationSettings = field(default_factory=ImpersonationSettings)
    diversion: DiversionSettings = field(default_factory=DiversionSettings)
    fake_admission: FakeAdmissionSettings = field(default_factory=FakeAdmissionSettings)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["typologies"] = list(self.typologies)
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> "Settings":
        return _build(cls, {} if data is None else data, "settings")

    def with_overrides(self, **kw) -> "Settings":
        return replace(self, **{k: v for k, v in kw.items() if v is not None})


def _build(cls, data: dict, where: str):
    if not isinstance(data, dict):
        raise SettingsError(f"{where}: expected an object, got {type(data).__name__}")
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise SettingsError(f"{where}: unknown setting(s) {', '.join(unknown)}; "
                            f"known: {', '.join(known)}")
    kw = {}
    defaults = cls()
    for name, value in data.items():
        default = getattr(defaults, name)
        if is_dataclass(default):
            kw[name] = _build(type(default), value, f"{where}.{name}")
        elif isinstance(default, tuple):
            if not isinstance(value, (list, tuple)):
                raise SettingsError(f"{where}.{name}: expected a list")
            kw[name] = tuple(str(v) for v in value)
        elif isinstance(default, bool) or not isinstance(default, (int, float)):
            kw[name] = value
        else:
            kw[name] = _number(value, default, name, f"{where}.{name}")
    return cls(**kw)


#: settings that are shares or scores: between 0 and 1 (and every ``*_share``)
_FRACTIONS = frozenset({"min_score", "lookalike_discount"})


def _number(value, default, name: str, where: str):
    """``value`` checked and typed like ``default``: every numeric setting is a count, a length
    of time, a threshold or a share, so it is finite and not negative; shares and scores are at
    most 1, and a count is a whole number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SettingsError(f"{where}: expected a number, got {value!r}")
    if not math.isfinite(value) or value < 0:
        raise SettingsError(f"{where}: expected a finite number >= 0, got {value!r}")
    if (name in _FRACTIONS or name.endswith("_share")) and value > 1:
        raise SettingsError(f"{where}: a share between 0 and 1, got {value!r}")
    if isinstance(default, int):
        if not float(value).is_integer():
            raise SettingsError(f"{where}: expected a whole number, got {value!r}")
        return int(value)
    return float(value)


def load_settings(path: str | Path | None) -> Settings:
    """Settings from a JSON file (or defaults when ``path`` is None)."""
    if path is None:
        return Settings()
    return Settings.from_dict(read_json(path, SettingsError, "settings"))
