"""Masking, evidence packages, manifest and verify."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import zipfile

import pandas as pd
import pytest
from click.testing import CliRunner

import graphkit
from graphkit.cli import main
from graphkit.evidence import (SIGNATURE, Masker, PackageError, check_package, content_digest,
                               generate_key_pair, mask_address, mask_id_number, mask_name,
                               mask_phone, verify, write_package)
from graphkit.rings import Member, Ring, RingsDocument, write_rings
from tests.browser import ID_CARD, PHONES, write_many_codes

PACKAGE_FILES = ["claim_items.csv", "claims.csv", "graph.html", "manifest.json", "members.csv",
                 "reproduce.cypher", "settings.json", "报告.html"]


@pytest.fixture(scope="module")
def package(sample, tmp_path_factory):
    _, doc, ds = sample
    out = tmp_path_factory.mktemp("pkg") / "R0001"
    return write_package(doc, "R0001", out, ds, zip_=True)


def _input_pii(data_dir) -> set[str]:
    """Every 身份证号 and phone in the input files."""
    found = set()
    pats = pd.read_csv(data_dir / "patients.csv", dtype=str)
    claims = pd.read_csv(data_dir / "claims.csv", dtype=str)
    for s in (pats["id_number"], pats["phone"], claims["operator_phone"]):
        found |= set(s.dropna())
    return found


def _all_blobs(path):
    for p in sorted(path.parent.rglob("*")):
        if p.is_file() and (p.parent == path or p == path.with_name(path.name + ".zip")):
            if p.suffix == ".zip":
                with zipfile.ZipFile(p) as zf:
                    for n in zf.namelist():
                        yield f"{p.name}:{n}", zf.read(n)
            else:
                yield p.name, p.read_bytes()


# ---- masking functions


def test_mask_id_number_keeps_only_the_region_code():
    # birth date, sequence and check digit are never shown (see graphkit.masking)
    assert mask_id_number("510104199001011234") == "510104************"
    assert mask_id_number("11010519491231002X") == "110105************"
    assert mask_id_number("510104900101123") == "510104*********"  # a 15-digit old number
    assert mask_id_number("A1234567") == "********"
    assert mask_id_number(None) == "" and mask_id_number(pd.NA) == ""


def test_masker_masks_a_name_learnt_after_the_text_was_first_masked():
    m = Masker()
    assert m.text("张三丰 在药店购药") == "张三丰 在药店购药"  # not yet known as a person
    m.know_people(["张三丰"], ["四川省成都市武侯区人民南路四段1号"])
    assert m.text("张三丰 在药店购药") == "张** 在药店购药"
    assert m.text("住 四川省成都市武侯区人民南路四段1号") == "住 四川省成都市武侯区****"


def test_mask_name_keeps_surname_and_compound_surname():
    assert mask_name("张三") == "张*"
    assert mask_name("张三丰") == "张**"
    assert mask_name("欧阳娜娜") == "欧阳**"
    assert mask_name("司马相如") == "司马**"
    assert mask_name("欧阳") == "欧*"  # a two-character name is surname + given name


def test_mask_phone_keeps_first_three_and_last_four_digits():
    assert mask_phone("13812341234") == "138****1234"
    assert mask_phone("138-1234-1234") == "138-****-1234"
    assert mask_phone("") == ""


def test_mask_address_stops_at_district():
    assert mask_address("四川省成都市武侯区人民南路四段1号") == "四川省成都市武侯区****"
    assert mask_address("广西壮族自治区南宁市青秀区民族大道1号") == "广西壮族自治区南宁市青秀区****"
    assert mask_address("某某村幸福路一百号院") == "某某村幸福路****"


def test_masker_scrubs_ids_and_phones_in_free_text(sample):
    _, _, ds = sample
    m = Masker(ds)
    text = f"phone {PHONES[0]} card {ID_CARD}; 身份证 11010119900101123X, 手机15000000000"
    out = m.text(text)
    assert PHONES[0] not in out and ID_CARD not in out
    assert "138****1234" in out and "510104************" in out
    assert "110101************" in out and "150****0000" in out
    assert Masker(ds, enabled=False).text(text) == text


def test_masker_leaves_trace_codes_alone(sample):
    _, _, ds = sample
    code = "81234567890123456789"
    assert Masker(ds).text(f"追溯码 {code}") == f"追溯码 {code}"


# ---- packages


def test_package_has_every_file_and_verifies(package):
    assert sorted(p.name for p in package.iterdir()) == PACKAGE_FILES
    assert verify(package) == []
    assert verify(package.with_name("R0001.zip")) == []


def test_manifest_records_hashes_fingerprint_settings_and_masking(package, sample):
    _, doc, ds = sample
    m = json.loads((package / "manifest.json").read_text(encoding="utf-8"))
    assert m["masked"] is True and m["ring_id"] == "R0001"
    assert m["input"]["fingerprint"] == doc.fingerprint
    assert m["input"]["loaded_fingerprint"] == ds.fingerprint
    assert m["params"] == doc.params and m["graphkit_version"] == graphkit.__version__
    assert sorted(m["files"]) == [f for f in PACKAGE_FILES if f != "manifest.json"]
    assert all(len(v["sha256"]) == 64 for v in m["files"].values())


def test_changed_byte_fails_verify_naming_the_file(sample, tmp_path):
    _, doc, ds = sample
    pkg = write_package(doc, "R0002", tmp_path / "R0002", ds)
    p = pkg / "claims.csv"
    data = bytearray(p.read_bytes())
    data[-2] ^= 1
    p.write_bytes(bytes(data))
    assert verify(pkg) == ["changed: claims.csv"]
    res = CliRunner().invoke(main, ["verify", str(pkg)])
    assert res.exit_code == 1 and "changed: claims.csv" in res.output


def test_missing_and_extra_files_fail_verify(sample, tmp_path):
    _, doc, ds = sample
    pkg = write_package(doc, "R0002", tmp_path / "R0002", ds)
    (pkg / "graph.html").unlink()
    (pkg / "notes.txt").write_text("added later", encoding="utf-8")
    assert verify(pkg) == ["missing: graph.html", "extra: notes.txt"]


def test_masked_package_holds_no_input_id_number_or_phone(package, sample):
    data, _, _ = sample
    secrets = _input_pii(data)
    assert ID_CARD in secrets and len(secrets) >= 15
    scanned = 0
    for name, blob in _all_blobs(package):
        scanned += 1
        leaked = [s for s in secrets if s.encode("utf-8") in blob]
        assert leaked == [], (name, leaked)
    assert scanned == 2 * len(PACKAGE_FILES)  # the directory and the zip


def test_masked_package_of_card_that_is_an_id_number_leaks_nothing(sample, tmp_path):
    data, doc, ds = sample
    pkg = write_package(doc, "R0003", tmp_path / "R0003", ds, zip_=True)
    secrets = _input_pii(data)
    for name, blob in _all_blobs(pkg):
        assert [s for s in secrets if s.encode("utf-8") in blob] == [], name
    members = (pkg / "members.csv").read_text(encoding="utf-8-sig")
    assert "510104************" in members and "186****7777" in members


def test_masking_is_consistent_across_files(package):
    rows = list(csv.DictReader(io.StringIO((package / "members.csv")
                                           .read_text(encoding="utf-8-sig"))))
    names = {r["名称"] for r in rows if r["member_type"] == "patient"}
    assert "张*" in names and "欧阳**" in names
    for f in ("报告.html", "graph.html"):
        text = (package / f).read_text(encoding="utf-8")
        assert "张*" in text and "138****1234" in text, f
    claims = (package / "claims.csv").read_text(encoding="utf-8-sig")
    assert "138****1234" in claims


def test_unmasked_package_is_explicit(sample, tmp_path):
    _, doc, ds = sample
    pkg = write_package(doc, "R0003", tmp_path / "R0003", ds, unmasked=True)
    assert json.loads((pkg / "manifest.json").read_text(encoding="utf-8"))["masked"] is False
    assert ID_CARD in (pkg / "claims.csv").read_text(encoding="utf-8-sig")
    assert "未脱敏" in (pkg / "报告.html").read_text(encoding="utf-8")


def test_members_csv_lists_every_collapsed_trace_code(tmp_path):
    data, doc = write_many_codes(tmp_path / "codes", n_codes=40)
    pkg = write_package(doc, "R0001", tmp_path / "R0001", graphkit.load(data))
    rows = list(csv.DictReader(io.StringIO((pkg / "members.csv").read_text(encoding="utf-8-sig"))))
    codes = {r["member_id"] for r in rows if r["member_type"] == "trace_code"}
    assert codes == {m.id for m in doc.rings[0].members if m.type == "trace_code"}


def test_report_explains_case_in_chinese(package, sample):
    _, doc, _ = sample
    text = (package / "报告.html").read_text(encoding="utf-8")
    for want in ("职业骗保团伙", "负面清单 二(6) 空刷套刷", "2024-03-03 至 2024-03-15",
                 "7,200.00 元", "分析方法", "如何复现", "graphkit rings", "--settings settings.json",
                 "graphkit verify", doc.fingerprint, "@media print"):
        assert want in text, want


def test_claims_csv_holds_the_ring_claims(package, sample):
    _, doc, _ = sample
    claims = pd.read_csv(package / "claims.csv", dtype=str, encoding="utf-8-sig")
    assert sorted(claims["claim_id"]) == sorted(doc.ring("R0001").claims)


def test_cypher_passes_ids_only_as_parameters(package):
    text = (package / "reproduce.cypher").read_text(encoding="utf-8")
    params = [ln for ln in text.splitlines() if ln.startswith(":param")]
    queries = [ln for ln in text.splitlines()
               if not ln.startswith((":param", "//")) and ln.strip()]
    assert ":param claim_ids => ['S0001'," in text
    assert any(ln.startswith(":param card_ids => ['C001',") for ln in params)
    body = "\n".join(queries)
    assert "S0001" not in body and "C001" not in body and "PH01" not in body
    for label in ("(c:Claim)", "(k:Card)", "(p:Patient)", ":PRESENTED", ":HOLDS", ":AT", ":FOR",
                  "$claim_ids", "$card_ids", "(t:TraceCode)", ":TRACE"):
        assert label in body


def test_cypher_param_literals_escape_hostile_ids(sample, tmp_path):
    _, doc, ds = sample
    hostile = "X'}) DETACH DELETE n //"
    ring = Ring("gang", 0.5, (Member("card", hostile), Member("card", "C001")), ring_id="R0009")
    doc2 = RingsDocument(rings=(ring,), data_dir=doc.data_dir, fingerprint=doc.fingerprint)
    pkg = write_package(doc2, "R0009", tmp_path / "R0009", ds)
    text = (pkg / "reproduce.cypher").read_text(encoding="utf-8")
    assert ":param card_ids => ['C001', 'X\\'}) DETACH DELETE n //'];" in text
    assert [ln for ln in text.splitlines() if "DETACH" in ln and not ln.startswith(":param")] == []


def test_unknown_ring_is_a_clear_error(sample, tmp_path):
    _, doc, ds = sample
    with pytest.raises(PackageError, match="R0404"):
        write_package(doc, "R0404", tmp_path / "x", ds)


def test_package_refuses_a_directory_holding_other_files(sample, tmp_path):
    _, doc, ds = sample
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "mine.txt").write_text("x", encoding="utf-8")
    with pytest.raises(PackageError, match="mine.txt"):
        write_package(doc, "R0001", tmp_path / "busy", ds)


def test_package_cli_defaults_to_the_rings_data_dir_and_zips(sample, tmp_path):
    _, doc, _ = sample
    pj, _ = write_rings(doc, tmp_path / "rings")
    out = tmp_path / "cases" / "R0002"
    res = CliRunner().invoke(main, ["package", str(pj), "R0002", "-o", str(out), "--zip"])
    assert res.exit_code == 0, res.output
    assert "masked" in res.output
    res = CliRunner().invoke(main, ["verify", str(out.with_name("R0002.zip"))])
    # every file matches, but nothing signs the manifest: never reported as ok
    assert res.exit_code == 3 and "unsigned" in res.output and "ok" not in res.output


def test_package_cli_unknown_ring_exits_2(sample, tmp_path):
    _, doc, _ = sample
    pj, _ = write_rings(doc, tmp_path / "rings")
    res = CliRunner().invoke(main, ["package", str(pj), "R0404", "-o", str(tmp_path / "x")])
    assert res.exit_code == 2 and "R0404" in res.output and "Traceback" not in res.output


def test_verify_cli_on_a_non_package_is_a_clear_error(tmp_path):
    (tmp_path / "f.txt").write_text("x", encoding="utf-8")
    res = CliRunner().invoke(main, ["verify", str(tmp_path / "f.txt")])
    assert res.exit_code == 1 and "not a package" in res.output
    res = CliRunner().invoke(main, ["verify", str(tmp_path)])
    assert res.exit_code == 1 and "missing: manifest.json" in res.output


def test_package_is_reproducible_with_source_date_epoch(sample, tmp_path, monkeypatch):
    _, doc, ds = sample
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    a = write_package(doc, "R0002", tmp_path / "a" / "R0002", ds, zip_=True)
    b = write_package(doc, "R0002", tmp_path / "b" / "R0002", ds, zip_=True)
    assert a.with_name("R0002.zip").read_bytes() == b.with_name("R0002.zip").read_bytes()
    assert re.search(r'"created": "2023-11-14T22:13:20Z"',
                     (a / "manifest.json").read_text(encoding="utf-8"))


def test_a_package_of_other_data_than_the_rings_were_found_in_is_refused(tmp_path):
    """--data naming another data set than the rings file's input would write a package that
    contradicts itself (its claims and amounts are not the ring's): exit 1, one line."""
    from pathlib import Path

    samples = Path(__file__).resolve().parents[1] / "data_samples"
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["rings", str(samples / "demo"), "-o", str(out), "--no-pages", "-q"])
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(main, ["package", str(out / "rings.json"), "R0001", "-o",
                                    str(tmp_path / "pkg"), "--data", str(samples / "nhsa_gbk")])
    assert res.exit_code == 1
    assert "are not the input the rings were found in" in res.output
    assert "Traceback" not in res.output and len(res.output.strip().splitlines()) == 1
    assert not (tmp_path / "pkg").exists()


# ---- signed packages: a chain of custody


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    """Two key pairs: (private, public) of the operator, and of somebody else."""
    root = tmp_path_factory.mktemp("keys")
    return generate_key_pair(root / "operator"), generate_key_pair(root / "other")


@pytest.fixture
def signed(sample, keys, tmp_path):
    _, doc, ds = sample
    (private, _), _ = keys
    return write_package(doc, "R0001", tmp_path / "R0001", ds, zip_=True, sign=private,
                         operator="王警官")


def _rehash(pkg, name: str, new_bytes: bytes, *, whole_job: bool = True) -> None:
    """Edit a file and rewrite manifest.json to match, as a forger would: the file's hash, and
    (``whole_job``) the content digest and the report that shows it, with the report's hash."""
    (pkg / name).write_bytes(new_bytes)
    mp = pkg / "manifest.json"
    manifest = json.loads(mp.read_text(encoding="utf-8"))

    def rehash(n):
        data = (pkg / n).read_bytes()
        manifest["files"][n] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}

    rehash(name)
    if whole_job:
        old = manifest["content_digest"]
        new = content_digest({n: e["sha256"] for n, e in manifest["files"].items()})
        report = pkg / "报告.html"
        report.write_text(report.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
        manifest["content_digest"] = new
        rehash("报告.html")
    mp.write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def test_keygen_writes_a_private_key_only_its_owner_reads_and_never_overwrites(tmp_path):
    res = CliRunner().invoke(main, ["keygen", str(tmp_path / "k")])
    assert res.exit_code == 0, res.output
    private, public = tmp_path / "k" / "graphkit_ed25519.pem", tmp_path / "k" / "graphkit_ed25519.pub.pem"
    assert private.stat().st_mode & 0o777 == 0o600
    assert private.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert public.read_text().startswith("-----BEGIN PUBLIC KEY-----")
    fingerprint = re.search(r"fingerprint \(SHA-256\): ([0-9a-f]{64})", res.output).group(1)
    before = private.read_bytes()
    res = CliRunner().invoke(main, ["keygen", str(tmp_path / "k")])
    assert res.exit_code == 1 and "never overwritten" in res.output
    assert private.read_bytes() == before
    # the fingerprint is the SHA-256 of the 32 raw public-key bytes
    from cryptography.hazmat.primitives import serialization
    key = serialization.load_pem_public_key(public.read_bytes())
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert len(raw) == 32 and hashlib.sha256(raw).hexdigest() == fingerprint


def test_signed_package_verifies_with_its_key_and_prints_both_digests(signed, keys):
    (_, public), _ = keys
    for target in (signed, signed.with_name("R0001.zip")):
        res = CliRunner().invoke(main, ["verify", str(target), "--key", str(public)])
        assert res.exit_code == 0, res.output
        manifest_sha = hashlib.sha256((signed / "manifest.json").read_bytes()).hexdigest()
        assert f"manifest.json SHA-256: {manifest_sha}" in res.output
        assert check_package(target, public).signer_fingerprint in res.output
        assert "王警官" in res.output and "ok" in res.output
    manifest = json.loads((signed / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["operator"] == "王警官" and manifest["graphkit_version"] == graphkit.__version__
    assert manifest["input"]["fingerprint"] and manifest["params"] and manifest["settings"]["signed"]
    assert manifest["signer"]["key_fingerprint"] == check_package(signed, public).signer_fingerprint
    assert SIGNATURE not in manifest["files"]


def test_signed_package_checked_without_key_is_not_ok(signed):
    res = CliRunner().invoke(main, ["verify", str(signed)])
    assert res.exit_code == 3 and "not checked" in res.output
    assert check_package(signed).status == "unchecked"


def test_edited_file_with_rehashed_manifest_fails_a_signed_verify(signed, keys):
    (_, public), _ = keys
    members = (signed / "members.csv").read_bytes().replace(b"R0001", b"R0009", 1)
    _rehash(signed, "members.csv", members)
    assert verify(signed) == []  # the hashes alone are fooled ...
    res = CliRunner().invoke(main, ["verify", str(signed), "--key", str(public)])
    assert res.exit_code == 1 and "signature" in res.output  # ... the signature is not


def test_edited_report_with_rehashed_manifest_fails_a_signed_verify(signed, keys):
    (_, public), _ = keys
    report = (signed / "报告.html").read_text(encoding="utf-8").replace("王警官", "李警官")
    _rehash(signed, "报告.html", report.encode("utf-8"))
    assert any("signature" in p for p in verify(signed, public))


def test_missing_signature_fails_when_a_key_is_given(sample, keys, tmp_path):
    _, doc, ds = sample
    (_, public), _ = keys
    unsigned = write_package(doc, "R0001", tmp_path / "u", ds, zip_=True)
    assert check_package(unsigned).status == "unsigned"
    for target in (unsigned, unsigned.with_name("u.zip")):
        res = CliRunner().invoke(main, ["verify", str(target), "--key", str(public)])
        assert res.exit_code == 1 and "manifest.sig is missing" in res.output


def test_removed_signature_of_a_signed_package_fails_even_without_key(signed):
    (signed / SIGNATURE).unlink()
    result = check_package(signed)
    assert result.status == "failed" and "names a signer" in result.problems[0]


def test_wrong_key_fails(signed, keys):
    _, (_, other_public) = keys
    for target in (signed, signed.with_name("R0001.zip")):
        res = CliRunner().invoke(main, ["verify", str(target), "--key", str(other_public)])
        assert res.exit_code == 1 and "does not sign" in res.output


def test_tampered_zip_with_rehashed_manifest_fails(signed, keys, tmp_path):
    (_, public), _ = keys
    with zipfile.ZipFile(signed.with_name("R0001.zip")) as zf:
        zf.extractall(tmp_path / "x")
    inside = tmp_path / "x" / "R0001"
    _rehash(inside, "claims.csv", (inside / "claims.csv").read_bytes() + b"X,,,,,,,,,,,,,,,,\n")
    forged = tmp_path / "forged.zip"
    with zipfile.ZipFile(forged, "w") as zf:
        for path in sorted(inside.iterdir()):
            zf.write(path, f"R0001/{path.name}")
    assert verify(forged) == []  # the hashes alone are fooled ...
    assert any("does not sign" in p for p in verify(forged, public))  # ... the signature is not


def test_report_cover_shows_the_content_digest_of_every_other_file(signed):
    manifest = json.loads((signed / "manifest.json").read_text(encoding="utf-8"))
    hashes = {n: e["sha256"] for n, e in manifest["files"].items()}
    listing = "".join(f"{hashes[n]}  {n}\n" for n in sorted(hashes) if n != "报告.html")
    digest = hashlib.sha256(listing.encode()).hexdigest()  # what `sha256sum … | sha256sum` gives
    assert manifest["content_digest"] == digest == content_digest(hashes)
    cover = (signed / "报告.html").read_text(encoding="utf-8").split("二、证据")[0]
    assert digest in cover and "王警官" in cover


def test_a_rehashed_file_without_a_new_content_digest_fails_without_key(signed):
    _rehash(signed, "members.csv", b"ring_id\nR0001\n", whole_job=False)
    assert verify(signed) == ["content_digest in manifest.json is not that of the files it lists"]


def test_signed_package_is_reproducible(sample, keys, tmp_path, monkeypatch):
    _, doc, ds = sample
    (private, _), _ = keys
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    a = write_package(doc, "R0001", tmp_path / "a" / "R0001", ds, sign=private)
    b = write_package(doc, "R0001", tmp_path / "b" / "R0001", ds, sign=private)
    for name in ("manifest.json", SIGNATURE, "报告.html"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_keygen_has_help_with_example():
    res = CliRunner().invoke(main, ["keygen", "--help"])
    assert res.exit_code == 0 and "Example:" in res.output


def test_a_key_file_that_is_no_ed25519_public_key_is_a_usage_error(sample, signed, keys,
                                                                   tmp_path):
    (private, _), _ = keys
    rings_json, _ = write_rings(sample[1], tmp_path / "rings")
    junk = tmp_path / "junk.pem"
    junk.write_text("not a key\n", encoding="utf-8")
    for bad in (junk, private):  # a private key where the public one belongs
        res = CliRunner().invoke(main, ["verify", str(signed), "--key", str(bad)])
        assert res.exit_code == 2 and "public key" in res.output and "Traceback" not in res.output
    res = CliRunner().invoke(main, ["package", str(rings_json), "R0001", "-o",
                                    str(tmp_path / "p"), "--sign", str(junk)])
    assert res.exit_code == 2 and "private key" in res.output and not (tmp_path / "p").exists()


def test_the_report_links_its_files_and_names_the_paths_it_uses(tmp_path):
    from pathlib import Path

    samples = Path(__file__).resolve().parents[1] / "data_samples"
    out = tmp_path / "out"
    assert CliRunner().invoke(main, ["rings", str(samples / "demo"), "-o", str(out), "--no-pages",
                                     "-q"]).exit_code == 0
    res = CliRunner().invoke(main, ["package", str(out / "rings.json"), "R0001", "-o", str(tmp_path / "pkg")])
    assert res.exit_code == 0, res.output
    report = (tmp_path / "pkg" / "报告.html").read_text(encoding="utf-8")
    for name in ("graph.html", "members.csv", "claims.csv", "claim_items.csv"):
        assert f'<a href="{name}">' in report
    assert f"-o {out.as_posix()}" in report and f"package {out.as_posix()}/rings.json R0001" in report
