"""Rings: the result model and the rings.json / rings.csv files (contract section 2).

A :class:`Ring` is a frozen dataclass; detectors return lists of them and never mutate anything.
``rings.json`` is written with sorted, fixed formatting so the same input and settings give
byte-identical files.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from graphkit.contract import MEMBER_TYPES, TYPOLOGIES, role_zh
from graphkit._files import read_json, writing
from graphkit.errors import RingsFileError, UnknownRingError

__all__ = ["Member", "Evidence", "Ring", "RingsDocument", "SCHEMA", "read_rings", "write_rings",
           "rings_csv_text", "rings_json_text"]

SCHEMA = "graphkit.rings/1"


@dataclass(frozen=True, order=True)
class Member:
    type: str
    id: str
    role: str = ""

    def to_dict(self) -> dict:
        d = {"type": self.type, "id": self.id}
        if self.role:
            d["role"] = self.role
        return d


@dataclass(frozen=True)
class Evidence:
    rule: str
    clause: str
    detail: str
    count: int = 0

    def to_dict(self) -> dict:
        return {"rule": self.rule, "clause": self.clause, "detail": self.detail,
                "count": int(self.count)}


@dataclass(frozen=True)
class Ring:
    """One suspect cluster. ``ring_id`` is assigned when rings are ranked (R0001 = best)."""

    typology: str
    score: float
    members: tuple[Member, ...]
    claims: tuple[str, ...] = ()
    fund_amount: float = 0.0
    first_seen: str | None = None
    last_seen: str | None = None
    evidence: tuple[Evidence, ...] = ()
    ring_id: str = ""
    extra: dict = field(default_factory=dict, compare=False)
    #: other typologies whose detectors described the same people (:mod:`graphkit.reconcile`)
    also: tuple[str, ...] = ()
    #: the case this ring continues across runs, and how it changed (:mod:`graphkit.cases`)
    case_id: str = ""
    case_status: str = ""
    #: members (``"type:id"``) that were members of a ring in an earlier run (屡次出现)
    repeat: tuple[str, ...] = ()

    def member_ids(self, type_: str) -> list[str]:
        return [m.id for m in self.members if m.type == type_]

    @property
    def patients(self) -> list[str]:
        return self.member_ids("patient")

    def to_dict(self) -> dict:
        d = {
            "ring_id": self.ring_id,
            "typology": self.typology,
            "typology_zh": TYPOLOGIES.get(self.typology, ("",))[0],
            "score": round(float(self.score), 4),
            "members": [m.to_dict() for m in self.members],
            "claims": list(self.claims),
            "fund_amount": round(float(self.fund_amount), 2),
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "evidence": [e.to_dict() for e in self.evidence],
        }
        if self.also:
            d["also"] = list(self.also)
        if self.case_id:
            d["case_id"] = self.case_id
            d["case_status"] = self.case_status
        if self.repeat:
            d["repeat"] = list(self.repeat)
        if self.extra:
            d["extra"] = self.extra
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Ring":
        return cls(
            typology=d["typology"],
            score=float(d["score"]),
            members=tuple(Member(m["type"], str(m["id"]), m.get("role", "")) for m in d["members"]),
            claims=tuple(str(c) for c in d.get("claims", [])),
            fund_amount=float(d.get("fund_amount", 0.0) or 0.0),
            first_seen=d.get("first_seen"),
            last_seen=d.get("last_seen"),
            evidence=tuple(Evidence(e["rule"], e.get("clause", ""), e.get("detail", ""),
                                    int(e.get("count", 0) or 0)) for e in d.get("evidence", [])),
            ring_id=d.get("ring_id", ""),
            extra=d.get("extra", {}) or {},
            also=tuple(str(t) for t in d.get("also", []) or []),
            case_id=str(d.get("case_id", "") or ""),
            case_status=str(d.get("case_status", "") or ""),
            repeat=tuple(str(k) for k in d.get("repeat", []) or []),
        )


@dataclass(frozen=True)
class RingsDocument:
    """The whole rings.json: input, params and ranked rings."""

    rings: tuple[Ring, ...]
    data_dir: str = ""
    fingerprint: str = ""
    params: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        d = {
            "schema": SCHEMA,
            "input": {"data_dir": self.data_dir, "fingerprint": self.fingerprint},
            "params": self.params,
            "rings": [r.to_dict() for r in self.rings],
        }
        d.update(self.extra)
        return d

    def __repr__(self) -> str:
        by = {}
        for r in self.rings:
            by[r.typology] = by.get(r.typology, 0) + 1
        parts = ", ".join(f"{t} {n}" for t, n in sorted(by.items())) or "no ring"
        fund = sum(float(r.fund_amount) for r in self.rings)
        return (f"<RingsDocument {len(self.rings)} rings ({parts}); fund {fund:,.2f} 元; "
                f"input {self.fingerprint[:12] or '—'}>")

    def __len__(self) -> int:
        return len(self.rings)

    def __iter__(self):
        return iter(self.rings)

    def __getitem__(self, key: int | str) -> Ring:
        """``doc["R0009"]`` (by ring id) or ``doc[0]`` (by rank)."""
        if isinstance(key, str):
            return self.ring(key)
        return self.rings[key]

    def of_typology(self, typology: str) -> tuple[Ring, ...]:
        """The rings of one typology, named in English or 中文 (an unknown name is an error
        listing the valid ones)."""
        from graphkit.contract import typology_name

        typ = typology_name(typology)
        return tuple(r for r in self.rings if r.typology == typ or typ in r.also)

    def to_frame(self):
        """One row per ring: ids, typology (English and 中文), score, case, member counts, claims,
        fund amount, period and the first evidence clause (a pandas DataFrame)."""
        import pandas as pd

        rows = []
        for r in self.rings:
            counts: dict[str, int] = {}
            for m in r.members:
                counts[m.type] = counts.get(m.type, 0) + 1
            ev = r.evidence[0] if r.evidence else None
            rows.append({"ring_id": r.ring_id, "typology": r.typology,
                         "typology_zh": TYPOLOGIES.get(r.typology, ("",))[0],
                         "also": ",".join(r.also), "score": round(float(r.score), 4),
                         "case_id": r.case_id, "case_status": r.case_status,
                         "patients": counts.get("patient", 0), "cards": counts.get("card", 0),
                         "members": len(r.members), "claims": len(r.claims),
                         "fund_amount": round(float(r.fund_amount), 2),
                         "first_seen": r.first_seen, "last_seen": r.last_seen,
                         "clause": ev.clause if ev else ""})
        cols = ["ring_id", "typology", "typology_zh", "also", "score", "case_id", "case_status",
                "patients", "cards", "members", "claims", "fund_amount", "first_seen", "last_seen",
                "clause"]
        return pd.DataFrame(rows, columns=cols)

    def members_frame(self):
        """One row per member: ring_id, typology, score, member_type, member_id, role, role_zh
        (rings.csv's columns) and whether the member was seen in an earlier run (``repeat``)."""
        import pandas as pd

        rows = [{"ring_id": r.ring_id, "typology": r.typology, "score": round(float(r.score), 4),
                 "member_type": m.type, "member_id": m.id, "role": m.role,
                 "role_zh": role_zh(m.role) if m.role else "",
                 "repeat": f"{m.type}:{m.id}" in set(r.repeat)}
                for r in self.rings for m in r.members]
        return pd.DataFrame(rows, columns=["ring_id", "typology", "score", "member_type",
                                           "member_id", "role", "role_zh", "repeat"])

    def ring(self, ring_id: str) -> Ring:
        for r in self.rings:
            if r.ring_id == ring_id:
                return r
        raise UnknownRingError(f"ring {ring_id!r} is not in this rings file "
                             f"(it has {len(self.rings)} rings)")


def rank_rings(rings: Iterable[Ring]) -> tuple[Ring, ...]:
    """Order by score (highest first), ties broken deterministically, and number R0001.."""
    from dataclasses import replace

    def key(r: Ring):
        return (-round(r.score, 6), r.typology, -len(r.members), sorted(r.members)[:1], r.claims[:1])

    ordered = sorted(rings, key=key)
    return tuple(replace(r, ring_id=f"R{i:04d}") for i, r in enumerate(ordered, start=1))


def rings_json_text(doc: RingsDocument) -> str:
    return json.dumps(doc.to_dict(), ensure_ascii=False, indent=1, sort_keys=False,
                      allow_nan=False) + "\n"


def rings_csv_text(doc: RingsDocument) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["ring_id", "typology", "score", "member_type", "member_id", "role", "role_zh"])
    for r in doc.rings:
        for m in r.members:
            w.writerow([r.ring_id, r.typology, f"{r.score:.4f}", m.type, m.id, m.role,
                        role_zh(m.role) if m.role else ""])
    return buf.getvalue()


def write_rings(doc: RingsDocument, out_dir: str | Path) -> tuple[Path, Path]:
    """Write ``rings.json`` and ``rings.csv`` into ``out_dir`` (created if needed)."""
    out = Path(out_dir)
    pj, pc = out / "rings.json", out / "rings.csv"
    with writing(out, "the rings files"):
        out.mkdir(parents=True, exist_ok=True)
        pj.write_text(rings_json_text(doc), encoding="utf-8")
        pc.write_text(rings_csv_text(doc), encoding="utf-8")
    return pj, pc


def read_rings(path: str | Path) -> RingsDocument:
    """Read and check a rings.json; raise :class:`RingsFileError` naming what is wrong."""
    return parse_rings(read_json(path, RingsFileError, "rings"), str(path))


def parse_rings(raw: Any, source: str = "rings.json") -> RingsDocument:
    if not isinstance(raw, dict) or not isinstance(raw.get("rings"), list):
        raise RingsFileError(f"{source}: expected an object with a 'rings' list "
                             f"(schema {SCHEMA})")
    if raw.get("schema", SCHEMA) != SCHEMA:
        raise RingsFileError(f"{source}: schema {raw.get('schema')!r} is not {SCHEMA!r}")
    rings = []
    for i, r in enumerate(raw["rings"]):
        where = f"{source}: rings[{i}]"
        if not isinstance(r, dict):
            raise RingsFileError(f"{where} is not an object")
        for k in ("typology", "members"):
            if k not in r:
                raise RingsFileError(f"{where} has no {k!r}")
        if not isinstance(r["members"], list) or not all(
                isinstance(m, dict) and "type" in m and "id" in m for m in r["members"]):
            raise RingsFileError(f"{where}: 'members' must be a list of {{type, id}} objects")
        bad = sorted({m["type"] for m in r["members"]} - set(MEMBER_TYPES))
        if bad:
            raise RingsFileError(f"{where}: unknown member type(s) {bad}")
        try:
            rings.append(Ring.from_dict({"score": 0.0, **r}))
        except (TypeError, ValueError, KeyError) as exc:
            raise RingsFileError(f"{where}: {exc}") from None
    inp = raw.get("input") or {}
    known = {"schema", "input", "params", "rings"}
    return RingsDocument(
        rings=tuple(rings),
        data_dir=str(inp.get("data_dir", "")),
        fingerprint=str(inp.get("fingerprint", "")),
        params=raw.get("params") or {},
        extra={k: v for k, v in raw.items() if k not in known},
    )
