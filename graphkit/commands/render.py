"""``graphkit render``, ``graphkit package`` and ``graphkit verify``: pages and evidence packages."""

from __future__ import annotations

from pathlib import Path

import click

from graphkit.commands._common import library_errors


def _load_for(doc, rings_json: Path, data_dir: Path | None):
    """Load DATA_DIR, defaulting to the rings file's input.data_dir (as given, or next to it)."""
    from graphkit.evidence import _resolve_dataset
    from graphkit.load import load

    if data_dir is not None:
        return load(data_dir)
    return _resolve_dataset(doc, None, rings_json)


@click.command("render")
@click.argument("rings_json", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("data_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("-o", "--out", "out_dir", required=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="Output directory for index.html and rings/<ring_id>.html.")
@click.option("--unmasked", is_flag=True,
              help="Show 身份证号, names, phones and addresses in full (default: masked).")
@click.option("--max-nodes", type=click.IntRange(10, 20000), default=2000, show_default=True,
              help="Cut larger ring views to their core, with a note of what was left out.")
def render_cmd(rings_json: Path, data_dir: Path, out_dir: Path, unmasked: bool,
               max_nodes: int) -> None:
    """Write OUT_DIR/index.html and one interactive, offline page per ring.

    Pages inline vis-network and all styles and make no network request; personal data is
    masked unless --unmasked is given.

    \b
    Example:
      graphkit render out/demo/rings.json data_samples/demo -o out/demo-pages
      graphkit render out/demo/rings.json data_samples/demo -o /media/usb/pages --max-nodes 800
    """
    from rich.console import Console

    from graphkit.load import load
    from graphkit.render import render_all
    from graphkit.rings import read_rings

    err = Console(stderr=True, highlight=False)
    with library_errors():
        doc = read_rings(rings_json)
        with err.status(f"loading {data_dir} ...") as status:
            ds = load(data_dir)
            status.update("writing pages ...")
            paths = render_all(doc, ds, out_dir, mask=not unmasked, max_nodes=max_nodes,
                               progress=lambda done, n: status.update(
                                   f"writing pages: {done:,} of {n:,} ..."))
    click.echo(f"wrote {paths[0]} and {len(paths) - 1} ring page(s) under {out_dir / 'rings'}")


@click.command("package")
@click.argument("rings_json", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("ring_id")
@click.option("-o", "--out", "out_dir", required=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="Package directory to write (created; must hold no other files).")
@click.option("--data", "data_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Data directory [default: the rings file's input.data_dir].")
@click.option("--unmasked", is_flag=True,
              help="Write personal data in full; recorded in manifest.json (default: masked).")
@click.option("--zip", "zip_", is_flag=True, help="Also write DIR.zip next to the directory.")
def package_cmd(rings_json: Path, ring_id: str, out_dir: Path, data_dir: Path | None,
                unmasked: bool, zip_: bool) -> None:
    """Write an evidence package for one ring: 报告.html, graph.html, CSVs, Cypher, manifest.

    Personal data is masked by default (身份证号 510***********1234, names 张*, phones
    138****1234) in every file. manifest.json records the SHA-256 of every file, the input
    fingerprint, the settings, the graphkit version and the time; check it with graphkit verify.

    \b
    Example:
      graphkit package out/demo/rings.json R0001 -o cases/R0001
      graphkit package out/demo/rings.json R0002 -o cases/R0002 --data data_samples/demo --zip
    """
    from graphkit.evidence import write_package
    from graphkit.rings import read_rings

    with library_errors():
        doc = read_rings(rings_json)
        doc.ring(ring_id)  # unknown ring: fail before loading data
        ds = _load_for(doc, rings_json, data_dir)
        out = write_package(doc, ring_id, out_dir, ds, unmasked=unmasked, zip_=zip_,
                            rings_path=rings_json)
    click.echo(f"wrote {out}" + (f" and {out.with_name(out.name + '.zip')}" if zip_ else "")
               + ("  (UNMASKED: holds personal data)" if unmasked else "  (personal data masked)"))


@click.command("verify")
@click.argument("package", type=click.Path(exists=True, path_type=Path))
def verify_cmd(package: Path) -> None:
    """Check every file of an evidence package (directory or .zip) against its manifest.

    Exits 0 when every file is present and unchanged; 1 naming each changed, missing or
    extra file otherwise.

    \b
    Example:
      graphkit verify cases/R0001
      graphkit verify cases/R0001.zip
    """
    from graphkit.evidence import verify

    with library_errors():
        problems = verify(package)
    if problems:
        for p in problems:
            click.echo(p, err=True)
        raise click.ClickException(f"{package}: {len(problems)} problem(s): "
                                   + "; ".join(problems[:5]))
    click.echo(f"{package}: ok, every file matches manifest.json")
