"""``graphkit synth``: write a synthetic data directory with planted rings and truth.csv."""

from __future__ import annotations

from pathlib import Path

import click

from graphkit.commands._common import library_errors, stderr_is_tty


@click.command("synth")
@click.argument("out_dir", type=click.Path(path_type=Path))
@click.option("--claims", "n_claims", type=int, required=True, help="Number of settlements (>= 3000).")
@click.option("--seed", type=int, required=True, help="Random seed; same arguments give identical files.")
@click.option("--camouflage", type=click.FloatRange(0.0, 1.0), default=0.5, show_default=True,
              help="How much normal activity ring members keep and how spread the fraud is.")
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet"]), default="csv", show_default=True)
@click.option("--encoding", type=click.Choice(["utf-8", "gbk"]), default="utf-8", show_default=True,
              help="CSV text encoding.")
@click.option("--headers", type=click.Choice(["english", "chinese", "nhsa"]), default="english",
              show_default=True, help="Column headers: canonical English, Chinese labels, or "
              "平台 field codes (Chinese labels where no code exists).")
def synth_cmd(out_dir: Path, n_claims: int, seed: int, camouflage: float, fmt: str, encoding: str,
              headers: str) -> None:
    """Generate synthetic 医保 data in OUT_DIR: one year of claims with planted fraud rings of
    all four typologies, legitimate look-alikes, and truth.csv (the planted rings).

    \b
    Example:
      graphkit synth out/synth20k --claims 20000 --seed 1
      graphkit synth out/gbk --claims 20000 --seed 2 --encoding gbk --headers nhsa
      graphkit synth out/big --claims 1000000 --seed 3 --format parquet
    """
    from graphkit.synth import generate

    with library_errors():
        s = generate(out_dir, claims=n_claims, seed=seed, camouflage=camouflage, fmt=fmt,
                     encoding=encoding, headers=headers, progress=stderr_is_tty())
    tables = ", ".join(f"{k} {v:,}" for k, v in s["tables"].items())
    rings = ", ".join(f"{k} {v}" for k, v in s["rings"].items())
    looks = ", ".join(f"{k} {v}" for k, v in s["lookalikes"].items())
    click.echo(f"wrote {out_dir}: {tables}")
    click.echo(f"planted rings (truth.csv): {rings}")
    click.echo(f"look-alikes (not in truth): {looks}")
