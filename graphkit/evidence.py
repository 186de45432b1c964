"""Evidence packages for 公安 / 医保 investigators: packages, manifest, signature and verify.

A package is a directory for one ring that opens anywhere and explains itself in Chinese::

    报告.html          printable case summary (typology, members, period, 医保基金 amount,
                       evidence with 负面清单 clauses, method, how to reproduce)
    graph.html         the interactive ring page (as written by :mod:`graphkit.render`)
    members.csv        the ring's members (and the people and places tied to them)
    claims.csv         the ring's claims
    claim_items.csv    their items
    reproduce.cypher   parameterised Neo4j queries returning the ring's subgraph
    settings.json      the detection settings, for ``graphkit rings --settings settings.json``
    manifest.json      SHA-256 of every file, input fingerprint, settings, version, time,
                       operator, content digest, signer's key fingerprint
    manifest.sig       (signed packages) Ed25519 signature of manifest.json's bytes

Personal data (身份证号, names, phones, addresses, birth dates) is masked by default with the
same :mod:`graphkit.masking` the pages use, so one person looks the same in every file;
``unmasked=True`` is explicit and recorded in the manifest.

:func:`check_package` (``graphkit verify``) recomputes every hash and names what changed, is
missing or was added. A hash list proves nothing by itself (whoever edits a file can rehash it),
so a package can be signed: ``manifest.sig`` is the Ed25519 signature of manifest.json's bytes
with the operator's private key (:func:`generate_key_pair`, ``graphkit keygen``), checked with
the public key received out of band. A package is ``ok`` only when every file matches and the
signature verifies under the key given; an unsigned one is reported as ``unsigned``.

The report cannot show the SHA-256 of the manifest that hashes the report itself. Its cover shows
the *content digest* instead: the SHA-256 of the ``sha256sum``-style listing of every other file
(:func:`content_digest`), which the manifest records too and verify checks against both the files
and the report. The manifest's own SHA-256 and the signer's key fingerprint are what
``graphkit verify`` prints, to be confirmed out of band.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import io
import json
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from markupsafe import Markup

from graphkit import _signing, render
from graphkit._files import file_sha256, writing
from graphkit._version import __version__
from graphkit.contract import TYPOLOGIES, role_zh
from graphkit.errors import GraphkitError, RingsFileError
from graphkit.masking import (COMPOUND_SURNAMES, Masker, mask_address, mask_id_number, mask_name,
                              mask_phone)
from graphkit.masking import text_of as _text
from graphkit._signing import generate_key_pair, key_fingerprint  # noqa: F401  (re-exported)
from graphkit.templating import render_template

__all__ = ["mask_id_number", "mask_name", "mask_phone", "mask_address", "Masker",
           "write_package", "verify", "check_package", "Verification", "content_digest",
           "generate_key_pair", "PackageError", "COMPOUND_SURNAMES", "MANIFEST_SCHEMA"]

MANIFEST_SCHEMA = "graphkit.package/1"
MANIFEST = "manifest.json"
#: detached Ed25519 signature of manifest.json's bytes (see graphkit._signing)
SIGNATURE = "manifest.sig"
REPORT = "报告.html"

class PackageError(GraphkitError):
    """A package cannot be written or verified (unknown ring, missing data, unreadable manifest)."""


# --------------------------------------------------------------------------------------------
# manifest and verify


def _files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


#: files the content digest leaves out: the report shows the digest (it cannot cover itself),
#: the manifest records it and the signature signs the manifest
_NOT_DIGESTED = frozenset({REPORT, MANIFEST, SIGNATURE})


def content_digest(hashes: dict[str, str]) -> str:
    """SHA-256 of the package's file listing without 报告.html (which shows this digest).

    The listing is what ``sha256sum`` prints for the files, sorted by name — one
    ``<sha256>  <name>`` line each — so that it can be recomputed without graphkit::

        cd PACKAGE && sha256sum claim_items.csv claims.csv graph.html members.csv \\
            reproduce.cypher settings.json | sha256sum
    """
    listing = "".join(f"{hashes[name]}  {name}\n" for name in sorted(hashes)
                      if name not in _NOT_DIGESTED)
    return hashlib.sha256(listing.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Verification:
    """What :func:`check_package` found.

    ``status`` is ``"ok"`` (every file matches and the signature verifies under the key given),
    ``"unsigned"`` (every file matches the manifest, which nothing signs: anyone could have
    rewritten both), ``"unchecked"`` (every file matches and the manifest is signed, but no key
    was given to check the signature with) or ``"failed"`` (``problems`` says why).
    """

    status: str
    problems: tuple[str, ...]
    manifest_sha256: str = ""
    signer_fingerprint: str = ""  # of the key given (checked) or as the manifest records it
    operator: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def _unzipped(path: Path, tmp: str) -> Path:
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        for n in names:
            if n.startswith("/") or ".." in Path(n).parts:
                raise PackageError(f"{path}: unsafe path in zip: {n}")
        zf.extractall(tmp)
    tops = {Path(n).parts[0] for n in names if Path(n).parts}
    if len(tops) == 1 and not (Path(tmp) / MANIFEST).exists():
        return Path(tmp) / tops.pop()
    return Path(tmp)


def check_package(path: str | Path, key: str | Path | None = None) -> Verification:
    """Recompute every hash of a package (directory or ``.zip``) and check its signature.

    With ``key`` (a public key PEM file, see :func:`generate_key_pair`) the package must carry
    ``manifest.sig`` signing ``manifest.json`` under that key; without it a signature is
    reported as present but not checked. Each problem names the file: ``changed: claims.csv``,
    ``missing: graph.html``, ``extra: notes.txt``, ``signature: …``.
    """
    public = _signing.load_public_key(key) if key is not None else None
    p = Path(path)
    if p.is_file() and zipfile.is_zipfile(p):
        with tempfile.TemporaryDirectory(prefix="graphkit-verify-") as tmp:
            try:
                root = _unzipped(p, tmp)
            except PackageError as exc:
                return Verification("failed", (str(exc),))
            return _check_dir(root, public)
    if not p.is_dir():
        raise PackageError(f"{p}: not a package directory or zip")
    return _check_dir(p, public)


def _check_dir(p: Path, public) -> Verification:
    mp = p / MANIFEST
    if not mp.is_file():
        return Verification("failed", (f"missing: {MANIFEST}",))
    raw = mp.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    try:
        manifest = json.loads(raw.decode("utf-8"))
        listed = manifest["files"]
        if not isinstance(listed, dict):
            raise TypeError("'files' is not an object")
    except (UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        return Verification("failed", (f"unreadable {MANIFEST}: {exc}",), digest)
    problems = []
    present = set(_files(p)) - {MANIFEST, SIGNATURE}
    hashes = {}
    for name in sorted(listed):
        entry = listed[name]
        want = entry.get("sha256") if isinstance(entry, dict) else entry
        hashes[name] = want
        if name not in present:
            problems.append(f"missing: {name}")
        elif file_sha256(p / name) != want:
            problems.append(f"changed: {name}")
    for name in sorted(present - set(listed)):
        problems.append(f"extra: {name}")
    recorded = manifest.get("content_digest")
    if recorded is not None:
        if recorded != content_digest(hashes):
            problems.append(f"content_digest in {MANIFEST} is not that of the files it lists")
        elif REPORT in present and recorded not in (p / REPORT).read_text(encoding="utf-8",
                                                                          errors="replace"):
            problems.append(f"changed: {REPORT} does not show the manifest's content digest")
    signer = manifest.get("signer") if isinstance(manifest.get("signer"), dict) else None
    named = _text(signer.get("key_fingerprint")) if signer else ""
    operator = _text(manifest.get("operator"))
    sig = p / SIGNATURE
    if public is not None:
        given = _signing.key_fingerprint(public)
        if not sig.is_file():
            problems.append(f"signature: {SIGNATURE} is missing (the package is unsigned) "
                            "but a key was given")
        elif not _signing.signature_valid(public, raw, sig.read_bytes()):
            problems.append(f"signature: {SIGNATURE} does not sign this {MANIFEST} under the "
                            f"key given (fingerprint {given[:16]}…)"
                            + (f"; the manifest names signer {named[:16]}…" if named
                               and named != given else ""))
        status = "failed" if problems else "ok"
        return Verification(status, tuple(problems), digest, given, operator)
    if signer and not sig.is_file():
        problems.append(f"signature: {MANIFEST} names a signer but {SIGNATURE} is missing")
    if problems:
        return Verification("failed", tuple(problems), digest, named, operator)
    return Verification("unchecked" if sig.is_file() else "unsigned", (), digest, named, operator)


def verify(path: str | Path, key: str | Path | None = None) -> list[str]:
    """The problems :func:`check_package` finds (an empty list: every file is unchanged and,
    when ``key`` is given, the signature verifies under it)."""
    return list(check_package(path, key).problems)


def _write_manifest(root: Path, info: dict, signing_key=None) -> Path:
    files = {}
    for name in _files(root):
        if name in (MANIFEST, SIGNATURE):
            continue
        fp = root / name
        files[name] = {"sha256": file_sha256(fp), "bytes": fp.stat().st_size}
    manifest = {"schema": MANIFEST_SCHEMA, **info, "files": files}
    if signing_key is not None:
        manifest["signer"] = {"algorithm": "Ed25519",
                              "key_fingerprint": _signing.key_fingerprint(signing_key)}
    mp = root / MANIFEST
    data = (json.dumps(manifest, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
    mp.write_bytes(data)
    sig = root / SIGNATURE
    if signing_key is not None:
        sig.write_bytes(_signing.sign(signing_key, data))
    elif sig.exists():
        sig.unlink()
    return mp


def _created_time() -> _dt.datetime:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return _dt.datetime.fromtimestamp(int(epoch), tz=_dt.timezone.utc)
    return _dt.datetime.now(tz=_dt.timezone.utc).replace(microsecond=0)


def _write_zip(root: Path, when: _dt.datetime) -> Path:
    zp = root.with_name(root.name + ".zip")
    stamp = when.timetuple()[:6]
    with zipfile.ZipFile(zp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in _files(root):
            zi = zipfile.ZipInfo(f"{root.name}/{name}", date_time=stamp)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            zf.writestr(zi, (root / name).read_bytes())
    return zp


# --------------------------------------------------------------------------------------------
# package contents

_MEMBER_LABEL = {"Patient": "patient", "Card": "card", "Doctor": "doctor",
                 "Pharmacist": "pharmacist", "Institution": "institution", "Pharmacy": "pharmacy",
                 "Phone": "phone", "Address": "address", "Device": "device",
                 "TraceCode": "trace_code", "Drug": "drug"}

_METHOD_ZH = {
    "gang": "把结算记录看作参保人、医保凭证、定点机构和终端设备之间的关系图；寻找同一批医保凭证在"
            "同一家药店或诊所、同一终端、短时间内反复同步刷卡（空刷/套刷）的群体，并核对这些凭证"
            "的持卡人之间有无正常的就医理由。",
    "impersonation": "检查医保凭证的使用者是否可能是持卡人本人：持卡人已死亡后仍有结算、性别或年龄与"
                     "诊断不符、同一天出现在两地、住院时间重叠，以及同一手机号或终端为多名参保人"
                     "扫码结算。",
    "diversion": "按药品追溯码追踪每一盒药：同一追溯码在不同药店被再次结算即为回流药；再沿开方医师、"
                 "购药参保人和药店串联，找出远超合理用量的重点药品获取与倒卖链条。",
    "fake_admission": "寻找反复在同一机构、同一日期集体入院、诊断和住院天数相似的参保人群体，"
                      "并核对其来源（同一住址、同一联系人）是否集中。",
}

_RELS_HEADER = """\
// Graph model as loaded by `graphkit neo4j load` (cypher/load_*.cypher): (:Patient)-[:HOLDS]->(:Card),
// (:Card)-[:PRESENTED]->(:Claim)-[:FOR]->(:Patient), (:Claim)-[:AT]->(:Institution|:Pharmacy),
// (:Claim)-[:PRESCRIBED_BY]->(:Doctor), (:Claim)-[:DISPENSED_BY]->(:Pharmacist),
// (:Claim)-[:VIA_DEVICE]->(:Device), (:Claim)-[:VIA_PHONE]->(:Phone),
// (:Claim)-[:HAS_ITEM]->(:Item)-[:TRACE]->(:TraceCode), (:Patient)-[:HAS_PHONE]->(:Phone).
"""


def _cypher_literal(v) -> str:
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_cypher_literal(x) for x in v) + "]"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    s = str(v)
    out = []
    for ch in s:
        if ch == "\\":
            out.append("\\\\")
        elif ch == "'":
            out.append("\\'")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ord(ch) < 0x20:
            out.append("\\u%04x" % ord(ch))
        else:
            out.append(ch)
    return "'" + "".join(out) + "'"


#: The queries of a package's reproduce.cypher, in order (``cypher/<name>.cypher``).
REPRODUCE_QUERIES = ("reproduce_claims", "reproduce_claim_subgraph", "reproduce_members",
                     "reproduce_trace_settlements")
#: The member type each ``$<type>_ids`` parameter of those queries takes.
_REPRODUCE_MEMBERS = {"patient_ids": "patient", "card_ids": "card",
                      "institution_ids": "institution", "pharmacy_ids": "pharmacy",
                      "doctor_ids": "doctor", "device_ids": "device", "trace_codes": "trace_code"}


def reproduce_cypher(ring, view_claims: pd.DataFrame, masker: Masker) -> str:
    """Parameterised Cypher returning the ring's subgraph: the :data:`REPRODUCE_QUERIES` of
    ``cypher/`` as they are, the ring's ids only in the ``:param`` lines."""
    from graphkit.neo4j_backend import get_query

    withheld = 0

    def ids(values) -> list[str]:
        nonlocal withheld
        out = []
        for v in values:
            s = _text(v)
            if not s:
                continue
            if masker.enabled and masker.is_pii_id(s):
                withheld += 1
                continue
            out.append(s)
        return sorted(set(out))

    queries = [get_query(name) for name in REPRODUCE_QUERIES]
    params: dict[str, list] = {}
    for q in queries:
        for p in q.params:
            if p.name in params:
                continue
            if p.name == "claim_ids":
                params[p.name] = ids(ring.claims or (view_claims["claim_id"] if len(view_claims)
                                                     else []))
            else:
                params[p.name] = ids(ring.member_ids(_REPRODUCE_MEMBERS[p.name]))
    lines = [
        f"// graphkit reproduce.cypher: ring {ring.ring_id} "
        f"({ring.typology} {TYPOLOGIES.get(ring.typology, ('',))[0]})",
        "// Run in cypher-shell or Neo4j Browser after `graphkit neo4j load DATA_DIR`.",
        "// Values travel only as parameters (the :param lines below); the queries hold none.",
        "// Parameters: " + ", ".join("$" + k for k in params),
    ]
    if withheld:
        lines.append(f"// {withheld} identifier(s) that are personal data (身份证号/phone) were "
                     "withheld from this masked package; $claim_ids still selects every claim.")
    lines.append(_RELS_HEADER.rstrip("\n"))
    lines.append("")
    for k, v in params.items():
        lines.append(f":param {k} => {_cypher_literal(v)};")
    for n, q in enumerate(queries, start=1):
        lines += ["", f"// {n}. {q.title}", f"// ({q.file})", q.body + ";"]
    return "\n".join(lines) + "\n"


def _csv_text(df: pd.DataFrame) -> str:
    buf = io.StringIO()
    out = df.copy()
    for c in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[c]):
            s = out[c]
            has_time = bool(((s.dt.hour != 0) | (s.dt.minute != 0) | (s.dt.second != 0)).any())
            fmt = "%Y-%m-%d %H:%M:%S" if has_time else "%Y-%m-%d"
            out[c] = s.dt.strftime(fmt)
    out.to_csv(buf, index=False, lineterminator="\n")
    # UTF-8 with BOM so that Excel on Chinese Windows opens it correctly.
    return "\ufeff" + buf.getvalue()


def _members_frame(ring, view, masker: Masker) -> pd.DataFrame:
    """Every ring member (also those cut from the view) and every node tied to them in view."""
    rows, seen = [], set()
    for _, a in sorted(view.graph_nodes_by_kind(),
                       key=lambda x: (not x[1]["member"], x[1]["type"], x[1]["id"])):
        codes = a.get("codes", [a["id"]])
        member_codes = set(a.get("members", codes if a["member"] else []))
        for code in codes:
            seen.add((a["type"], code))
            rows.append({
                "ring_id": ring.ring_id,
                "member": "是" if code in member_codes else "否",
                "member_type": a["type"],
                "类型": a["type_zh"],
                "member_id": masker.ident(a["type"], code),
                "role": masker.text(a.get("role", "")),
                "role_zh": masker.text(role_zh(a.get("role", ""))),
                "名称": a["display"] if len(codes) == 1 else "",
                "claims": a.get("n_claims", 0) if len(codes) == 1 else "",
                "fund_amount": round(float(a.get("fund", 0.0)), 2) if len(codes) == 1 else "",
                "detail": " | ".join(a.get("facts_display", [])) if len(codes) == 1 else "",
            })
    for mem in ring.members:
        if (mem.type, mem.id) not in seen:
            rows.append({"ring_id": ring.ring_id, "member": "是", "member_type": mem.type,
                         "类型": render.TYPE_ZH.get(mem.type, mem.type),
                         "member_id": masker.ident(mem.type, mem.id),
                         "role": masker.text(mem.role),
                         "role_zh": masker.text(role_zh(mem.role)), "名称": "", "claims": "",
                         "fund_amount": "", "detail": "图中未显示"})
    return pd.DataFrame(rows, columns=["ring_id", "member", "member_type", "类型", "member_id",
                                       "role", "role_zh", "名称", "claims", "fund_amount", "detail"])


#: the report's stylesheet (its page policy allows exactly this <style> by hash)
_REPORT_CSS = """\
body{font-family:"Noto Sans CJK SC","Microsoft YaHei","PingFang SC",sans-serif;margin:2em auto;
max-width:60em;color:#222;line-height:1.6;padding:0 1em}
h1{font-size:1.5em;border-bottom:2px solid #333} h2{font-size:1.15em;margin-top:1.6em}
table{border-collapse:collapse;width:100%;font-size:.9em} td,th{border:1px solid #bbb;padding:3px 6px;
text-align:left;vertical-align:top} th{background:#eee} .num{text-align:right}
.mono,pre{font-family:ui-monospace,Consolas,monospace} pre{background:#f6f6f6;padding:.6em;
white-space:pre-wrap;word-break:break-all;font-size:.85em} .muted{color:#666;font-size:.9em} .date{white-space:nowrap}
.note{background:#fff6d5;border:1px solid #e0c860;padding:.4em .8em}
dl{display:grid;grid-template-columns:9em 1fr;gap:.2em 1em} dt{font-weight:bold} dd{margin:0}
@media print{body{margin:0;max-width:none} a{color:#000;text-decoration:none}
h2{page-break-after:avoid} tr{page-break-inside:avoid}}
"""


def _report_html(doc, ring, view, masker: Masker, manifest_info: dict) -> str:
    """The package's printable report (templates/report.html), masked as ``masker`` says."""
    zh, en = TYPOLOGIES.get(ring.typology, (ring.typology, ""))
    counts = view.member_counts()
    # the ring page's members table, its members only (a pack: one row per drug and reseller)
    members = [r for r in render.member_rows(view) if r.member]
    evidence = [{"clause": e.clause or "（未注明条款）",
                 "detail": masker.text(view.ix.named(ring, e.detail)), "rule": e.rule,
                 "count": int(e.count)} for e in ring.evidence]
    rings_file = manifest_info.get("rings_file") or "rings.json"
    data_dir = doc.data_dir or "DATA_DIR"
    params_json = json.dumps(doc.params, ensure_ascii=False, indent=1, sort_keys=True)
    mask_flag = "" if masker.enabled else " --unmasked"
    settings_opt = " --settings settings.json" if _settings_of(doc.params) else ""
    # the same paths throughout: the rings are found into the folder the rings file is in
    out_dir = Path(rings_file).parent.as_posix() if Path(rings_file).name == "rings.json" else "OUT_DIR"
    rings_path = f"{out_dir}/rings.json" if out_dir != "OUT_DIR" else rings_file
    signed = manifest_info.get("settings", {}).get("signed")
    commands = "\n".join([
        f"graphkit rings {data_dir} -o {out_dir}{settings_opt}",
        f"graphkit package {rings_path} {ring.ring_id} -o {ring.ring_id} --data {data_dir}{mask_flag}",
        f"graphkit verify {ring.ring_id}" + (" --key PUBLIC_KEY.pem" if signed else ""),
    ])
    sign_note = ("本材料已签名（manifest.sig）：用签名人的公钥运行 graphkit verify 核对签名与每个文件，"
                 "并与签名人核对其公钥指纹。" if signed
                 else "本材料未签名：文件清单可被连同文件一起改写，请通过其他渠道核对本摘要。")
    mask_note = ("个人信息已脱敏（身份证号仅留地区码、出生日期仅留年份，姓名、电话、住址部分隐去）。" if masker.enabled
                 else "注意：本材料未脱敏（--unmasked），含完整个人信息，请按规定保管。")
    claims_n = len(ring.claims) or int(view.claims["claim_id"].nunique()) if len(view.claims) else 0
    css = Markup(_REPORT_CSS)  # the report's own stylesheet, inlined as its policy hashes it
    return render_template(
        "report.html", policy=render.content_security_policy((), (css,)), css=css,
        ring_id=ring.ring_id, mask_note=mask_note,
        fingerprint_differs=not manifest_info.get("input", {}).get("fingerprint_matches", True),
        typology=ring.typology, typology_zh=zh, typology_en=en, score=f"{ring.score:.2f}",
        period=f"{ring.first_seen or '—'} 至 {ring.last_seen or '—'}",
        fund=f"{ring.fund_amount:,.2f}", n_claims=claims_n,
        counts="，".join(f"{render.TYPE_ZH.get(t, t)} {n}" for t, n in counts.items()) or "—",
        operator=manifest_info.get("operator") or "（未注明）",
        content_digest=manifest_info.get("content_digest", ""), sign_note=sign_note,
        evidence=evidence, members=members,
        method=_METHOD_ZH.get(ring.typology, "把结算数据看作关系图，寻找反复共同出现、超出正常就医规律的人员与机构群体。"),
        fingerprint=doc.fingerprint or "—",
        graphkit_version=manifest_info.get("graphkit_version", ""),
        created=manifest_info.get("created", ""), commands=commands, params_json=params_json)


def _settings_of(params: dict) -> dict:
    """The part of rings.json ``params`` that ``graphkit rings --settings`` accepts."""
    if not params:
        return {}
    try:
        from dataclasses import fields

        from graphkit.settings import Settings
    except ImportError:  # pragma: no cover - settings is part of graphkit
        return dict(params)
    known = {f.name for f in fields(Settings)}
    return {k: v for k, v in params.items() if k in known}


def _resolve_dataset(doc, dataset, rings_path=None):
    """The data set a package is built from: given, or the rings file's ``input.data_dir``.

    A relative data_dir is tried from the current directory, then next to the rings file; then
    in the rings file's ancestor directories, accepted there only when its fingerprint matches.
    """
    if dataset is not None:
        return dataset
    from graphkit.load import load

    if not doc.data_dir:
        raise PackageError("the rings file names no input data directory; pass --data DATA_DIR")
    given = Path(doc.data_dir)
    if given.is_dir():
        return load(given)
    if rings_path is not None and not given.is_absolute():
        here = Path(rings_path).resolve().parent
        if (here / given).is_dir():
            return load(here / given)
        for up in here.parents:
            if (up / given).is_dir():
                ds = load(up / given)
                if doc.fingerprint and getattr(ds, "fingerprint", None) == doc.fingerprint:
                    return ds
    raise PackageError(f"data directory {doc.data_dir!r} from the rings file was not found "
                       "(from here or next to the rings file); pass --data DATA_DIR")


def write_package(doc, ring_id: str, out_dir: str | Path, dataset=None, *, unmasked: bool = False,
                  zip_: bool = False, rings_path: str | Path | None = None,
                  max_nodes: int = 2000, sign: str | Path | None = None,
                  operator: str | None = None) -> Path:
    """Write the evidence package for one ring into ``out_dir``; return the directory.

    ``dataset`` defaults to loading the rings file's ``input.data_dir``. With ``zip_=True`` also
    writes ``<out_dir>.zip`` next to the directory. Existing package files in ``out_dir`` are
    replaced; any other file there makes this fail (so :func:`verify` stays meaningful).
    ``sign`` is an Ed25519 private key PEM file (:func:`generate_key_pair`): ``manifest.sig``
    then signs ``manifest.json``. ``operator`` (who made the package) is recorded in the
    manifest and shown on the report.
    """
    signing_key = _signing.load_private_key(sign) if sign is not None else None
    operator = _text(operator).strip()
    try:
        ring = doc.ring(ring_id)
    except RingsFileError as exc:
        raise PackageError(str(exc)) from None
    ds = _resolve_dataset(doc, dataset, rings_path)
    loaded = _text(getattr(ds, "fingerprint", ""))
    if doc.fingerprint and loaded != doc.fingerprint:
        # a package of other data than the rings were found in contradicts itself (its claims,
        # amounts and members would not be the ring's): refuse it
        raise PackageError(
            f"the data {_text(getattr(ds, 'data_dir', '')) or '(given)'} are not the input the rings "
            f"were found in (fingerprint {loaded[:12] or '—'}…, the rings file's "
            f"{doc.fingerprint[:12]}…); pass --data with the data directory of that run")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise PackageError(f"{out} exists and is not a directory")
    with writing(out, "the evidence package"):
        out.mkdir(parents=True, exist_ok=True)
        ours = {REPORT, "graph.html", "members.csv", "claims.csv", "claim_items.csv",
                "reproduce.cypher", "settings.json", MANIFEST, SIGNATURE}
        strangers = [n for n in _files(out) if n not in ours]
        if strangers:
            raise PackageError(f"{out} already holds other files ({', '.join(strangers[:3])}); "
                               "choose an empty or new directory")

        masker = Masker(ds, enabled=not unmasked)
        view = render.RingView(ring, ds, masker, max_nodes=max_nodes)
        created = _created_time()
        info = {
            "ring_id": ring.ring_id,
            "typology": ring.typology,
            "masked": not unmasked,
            "created": created.isoformat().replace("+00:00", "Z"),
            "graphkit_version": __version__,
            "operator": operator,
            "rings_file": str(rings_path) if rings_path else "",
            "input": {"data_dir": doc.data_dir, "fingerprint": doc.fingerprint,
                      "loaded_data_dir": _text(getattr(ds, "data_dir", "")),
                      "loaded_fingerprint": _text(getattr(ds, "fingerprint", "")),
                      "fingerprint_matches": bool(doc.fingerprint) and
                      _text(getattr(ds, "fingerprint", "")) == doc.fingerprint},
            "params": doc.params,
            "settings": {"unmasked": bool(unmasked), "zip": bool(zip_), "max_nodes": max_nodes,
                         "signed": signing_key is not None},
        }
        (out / "graph.html").write_text(render.page_from_view(view), encoding="utf-8")
        (out / "members.csv").write_text(_csv_text(_members_frame(ring, view, masker)),
                                         encoding="utf-8")
        claims = view.ring_claims_frame()
        (out / "claims.csv").write_text(_csv_text(masker.frame(claims, "claims")), encoding="utf-8")
        items = view.ring_items_frame()
        (out / "claim_items.csv").write_text(_csv_text(masker.frame(items, "claim_items")),
                                             encoding="utf-8")
        (out / "reproduce.cypher").write_text(reproduce_cypher(ring, claims, masker),
                                              encoding="utf-8")
        settings = _settings_of(doc.params)
        if settings:
            (out / "settings.json").write_text(
                json.dumps(settings, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
                encoding="utf-8")
        elif (out / "settings.json").exists():
            (out / "settings.json").unlink()
        # the report shows the digest of every other file, so it is written last of them
        hashes = {name: file_sha256(out / name) for name in _files(out)
                  if name not in _NOT_DIGESTED}
        info["content_digest"] = content_digest(hashes)
        (out / REPORT).write_text(_report_html(doc, ring, view, masker, info), encoding="utf-8")
        _write_manifest(out, info, signing_key)
        if zip_:
            _write_zip(out, created)
    return out
