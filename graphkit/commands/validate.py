"""``graphkit validate``: load a data directory, report counts and write rejects."""

from __future__ import annotations

import json
from pathlib import Path

import click

from graphkit._files import writing
from graphkit.commands._common import library_errors


def default_rejects_path(data_dir: Path) -> Path:
    """``DATA_DIR/../<name>.rejects.csv``: next to the data, never inside it."""
    d = data_dir.resolve()
    return d.parent / f"{d.name}.rejects.csv"


@click.command("validate")
@click.argument("data_dir", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print exactly one JSON object on stdout.")
@click.option("--rejects", "rejects_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write rejected rows [default: DATA_DIR/../<name>.rejects.csv].")
def validate_cmd(data_dir: Path, as_json: bool, rejects_path: Path | None) -> None:
    """Load every table of DATA_DIR and report rows read, accepted and rejected.

    Rejected rows (source file, line, original values, reason) go to a CSV rejects file.
    Exits 0 when the data loaded, even with rejected rows; 1 with a one-line error naming
    the file and column when it cannot load.

    \b
    Example:
      graphkit validate data_samples/demo
      graphkit validate data_samples/nhsa_gbk --json --rejects /tmp/nhsa.rejects.csv
    """
    from graphkit.load import load

    with library_errors():
        ds = load(data_dir, progress=not as_json)
    path = rejects_path or default_rejects_path(data_dir)
    with library_errors(), writing(path, "the rejects file", "choose another place with --rejects PATH"):
        ds.write_rejects(path)
    if as_json:
        out = ds.summary()
        out["rejects_file"] = str(path)
        click.echo(json.dumps(out, ensure_ascii=False, sort_keys=False))
        return
    _print_table(ds, path)


def _print_table(ds, rejects_file: Path) -> None:
    """Counts per table, then each table's reject reasons on lines of their own: the table keeps
    whole cells at any terminal width (the reasons, the long part, wrap as text below it)."""
    from rich.console import Console
    from rich.table import Table

    con = Console(highlight=False)
    t = Table(title=f"graphkit validate {ds.data_dir}", title_justify="left")
    for col in ("table", "file", "encoding", "read", "accepted", "rejected"):
        t.add_column(col, justify="right" if col in ("read", "accepted", "rejected") else "left",
                     no_wrap=True)
    notes = []
    for name, c in ds.counts.items():
        t.add_row(name, ds.files[name].name, ds.encodings.get(name, ""), f"{c['read']:,}",
                  f"{c['accepted']:,}", f"{c['rejected']:,}")
        reasons = ([f"{k}: {v:,}" for k, v in c["reasons"].items()]
                   + [f"{k} stand-in read as missing: {v:,}"
                      for k, v in c.get("stand_ins", {}).items()])
        if reasons:
            notes.append(f"{name}: " + "; ".join(reasons))
    con.print(t)
    for line in notes:
        con.print(line, overflow="fold")
    if ds.ignored:
        con.print(f"ignored: {', '.join(ds.ignored)}")
    con.print(f"rejects: {ds.n_rejected:,} rows written to {rejects_file}")
