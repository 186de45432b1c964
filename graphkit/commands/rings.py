"""``graphkit rings``: load a data directory, detect rings, write rings.json / rings.csv / pages."""

from __future__ import annotations

import time
from pathlib import Path

import click

from graphkit._files import writing
from graphkit.commands._common import keep_rejects, library_errors

TYPOLOGY_CHOICES = ("gang", "impersonation", "diversion", "fake_admission")


@click.command("rings")
@click.argument("data_dir", type=click.Path(path_type=Path))
@click.option("-o", "--out", "out_dir", required=True, type=click.Path(path_type=Path),
              help="Output directory (created if needed).")
@click.option("--settings", "settings_file", type=click.Path(dir_okay=False, path_type=Path),
              help="JSON settings file (see docs/settings.md).")
@click.option("--min-score", type=click.FloatRange(0, 1), default=None,
              help="Report rings scoring at least this [default: 0.5, or the settings file's].")
@click.option("--typology", "typologies", multiple=True, type=click.Choice(TYPOLOGY_CHOICES),
              help="Only these typologies (repeatable) [default: all four].")
@click.option("--previous", "previous_file", type=click.Path(dir_okay=False, path_type=Path),
              help="An earlier run's rings.json: rings that continue one of its cases keep that "
                   "case_id, each ring is marked new / grown / shrunk / unchanged, cases not found "
                   "again are listed as cases_gone, and members seen before as repeat.")
@click.option("--no-pages", is_flag=True, help="Skip index.html and the per-ring pages.")
@click.option("--quiet", "-q", is_flag=True, help="No progress or summary on stderr/stdout.")
@click.option("--backend", type=click.Choice(("embedded", "neo4j")), default="embedded",
              show_default=True,
              help="embedded: load DATA_DIR here. neo4j: read the graph that `graphkit neo4j "
                   "load DATA_DIR` wrote to --uri back from the server.")
@click.option("--uri", envvar="NEO4J_URI", default="bolt://localhost:7687",
              help="With --backend neo4j: Bolt URI of the server [env NEO4J_URI; default "
                   "bolt://localhost:7687].")
@click.option("--user", envvar="NEO4J_USER", default=None,
              help="With --backend neo4j: user name; without one no auth [env NEO4J_USER].")
@click.option("--password", envvar="NEO4J_PASSWORD", default=None,
              help="With --backend neo4j: password [env NEO4J_PASSWORD].")
def rings_cmd(data_dir: Path, out_dir: Path, settings_file: Path | None, min_score: float | None,
              typologies: tuple[str, ...], previous_file: Path | None, no_pages: bool, quiet: bool, backend: str, uri: str,
              user: str | None, password: str | None) -> None:
    """Find suspect rings in DATA_DIR and write OUT_DIR/rings.json and rings.csv.

    Rings are ordered by score; rings.json carries the input fingerprint and every parameter,
    and is byte-identical for the same input and settings. Prints a summary per typology.
    Rows that did not load are written to OUT_DIR/rejects.csv with their file, line and
    reason (the file is absent when every row loaded).

    With --backend neo4j the data come from the graph database at --uri, which must hold a
    finished `graphkit neo4j load DATA_DIR` (when DATA_DIR exists here it must be the input
    that was loaded). The graph is read back in pages and the same detectors run in Python:
    community detection and scoring run here over the data fetched from the server, so the
    rings equal the embedded backend's; rings.json records params.backend = "neo4j" and the
    server URI as input.data_dir.

    \b
    Example:
      graphkit rings data_samples/demo -o out/demo
      graphkit rings data_samples/demo -o out/gangs --typology gang --min-score 0.7
      graphkit rings data_samples/demo -o out/march --previous out/february/rings.json
      graphkit neo4j load data_samples/demo --uri bolt://localhost:7687
      graphkit rings data_samples/demo -o out/neo4j --backend neo4j --uri bolt://localhost:7687
    """
    from graphkit.detect import find_rings
    from graphkit.load import load
    from graphkit.rings import read_rings, write_rings
    from graphkit.settings import load_settings

    from rich.console import Console

    err = Console(stderr=True, highlight=False, quiet=quiet)
    t0 = time.perf_counter()
    with library_errors():
        settings = load_settings(settings_file)
        settings = settings.with_overrides(min_score=min_score,
                                           typologies=tuple(typologies) or None)
        previous = read_rings(previous_file) if previous_file is not None else None
        with writing(out_dir, "the rings files"):  # fail before the work, not after it
            out_dir.mkdir(parents=True, exist_ok=True)
        if backend == "neo4j":
            ds = _fetch(data_dir, uri, user, password, err)
        else:
            with err.status(f"loading {data_dir} ...") as status:
                ds = load(data_dir, progress=lambda table: status.update(
                    f"loading {data_dir}: {table} ({time.perf_counter() - t0:.0f}s) ..."))
        err.print(f"[green]loaded[/] {len(ds.claims):,} claims, {len(ds.claim_items):,} items, "
                  f"{ds.n_rejected:,} rejected rows ({time.perf_counter() - t0:.1f}s)")
        _check_claims_analysed(ds, out_dir, err)
        with err.status("detecting ...") as status:
            def stage(name: str) -> None:
                status.update(f"detecting ... ({name} done)")
                err.print(f"  detector [bold]{name}[/] done ({time.perf_counter() - t0:.1f}s)")
            doc = find_rings(ds, settings, progress=stage, backend=backend, previous=previous)
        pj, pc = write_rings(doc, out_dir)
        # nothing is lost: the rows that did not load are beside the rings, with their reasons
        keep_rejects(ds, out_dir / "rejects.csv", err.print)
        pages = []
        if not no_pages:
            from graphkit.render import render_all

            # the pages show the rings as written (scores to 4 places): `graphkit render` of
            # rings.json writes the same files
            doc = read_rings(pj)

            with err.status("writing pages ...") as status:
                pages = render_all(doc, ds, out_dir, progress=lambda done, n: status.update(
                    f"writing pages: {done:,} of {n:,} ({time.perf_counter() - t0:.0f}s) ..."))
    if not quiet:
        _summary(doc, pj, pc, len(pages), time.perf_counter() - t0)


def _check_claims_analysed(ds, out_dir: Path, err) -> None:
    """A run that analysed nothing must not look like a success: with no claim accepted, write
    the rejects and stop (exit 1) with the top reasons; with many rejected, warn."""
    from graphkit.commands._common import GraphkitCommandError
    from graphkit.render import REJECTED_WARN_SHARE, claims_analysed

    accepted, rejected = claims_analysed(ds)
    rej = ds.rejects
    reasons = rej.loc[rej["table"] == "claims", "reason"].value_counts() if len(rej) else None
    top = ("; ".join(f"{r}: {n:,}" for r, n in reasons.head(3).items())
           if reasons is not None and len(reasons) else "")
    if accepted == 0:
        keep_rejects(ds, out_dir / "rejects.csv", err.print)
        raise GraphkitCommandError(
            f"no claim was accepted ({rejected:,} claim rows rejected"
            + (f": {top}" if top else "") + "): nothing was analysed"
            + (f"; the rows and reasons are in {out_dir / 'rejects.csv'}" if ds.n_rejected else ""))
    if rejected and rejected / (accepted + rejected) > REJECTED_WARN_SHARE:
        err.print(f"[bold yellow]warning:[/] {rejected / (accepted + rejected):.0%} of the claim rows "
                  f"were rejected ({rejected:,} of {accepted + rejected:,}: {top}); the rings may be "
                  "incomplete")


def _fetch(data_dir: Path, uri: str, user: str | None, password: str | None, err):
    """The Dataset read back from the server (checked against DATA_DIR when it exists here)."""
    from graphkit.load import input_fingerprint
    from graphkit.neo4j_backend import Neo4jStore

    expect = input_fingerprint(data_dir) if data_dir.is_dir() else None
    with Neo4jStore.connect(uri, user, password) as store:
        with err.status(f"reading the graph at {uri} ...") as status:
            ds = store.fetch_dataset(
                expect_fingerprint=expect,
                progress=lambda table, n: status.update(f"reading {table} from {uri}: {n:,} rows"))
    return ds


def _summary(doc, pj: Path, pc: Path, n_pages: int, seconds: float) -> None:
    from rich.console import Console
    from rich.table import Table

    from graphkit.contract import TYPOLOGIES

    con = Console(highlight=False)
    t = Table(title="rings found")
    for col in ("typology", "中文", "rings", "patients", "fund amount (元)"):
        t.add_column(col, justify="right" if col in ("rings", "patients", "fund amount (元)") else "left")
    total_r = total_p = 0
    total_f = 0.0
    for typ, (zh, _) in TYPOLOGIES.items():
        rs = [r for r in doc.rings if r.typology == typ]
        pats = {m.id for r in rs for m in r.members if m.type == "patient"}
        fund = sum(r.fund_amount for r in rs)
        total_r += len(rs)
        total_p += len(pats)
        total_f += fund
        t.add_row(typ, zh, str(len(rs)), str(len(pats)), f"{fund:,.2f}")
    t.add_row("all", "合计", str(total_r), str(total_p), f"{total_f:,.2f}")
    con.print(t)
    from collections import Counter

    from graphkit.cases import CASE_STATUS_ZH

    status = Counter(r.case_status for r in doc.rings)
    gone = doc.extra.get("cases_gone") or []
    if set(status) - {"new"} or gone:
        con.print("cases: " + ", ".join(f"{status[k]} {k} ({CASE_STATUS_ZH[k]})"
                                        for k in ("new", "grown", "shrunk", "unchanged") if status[k])
                  + f", {len(gone)} gone ({CASE_STATUS_ZH['gone']})")
    con.print(f"wrote {pj}, {pc}" + (f" and {n_pages} pages" if n_pages else "")
              + f" in {seconds:.1f}s")
