"""``graphkit eval``: score a rings.json against DATA_DIR/truth.csv."""

from __future__ import annotations

import json
from pathlib import Path

import click

from graphkit.commands._common import library_errors


@click.command("eval")
@click.argument("rings_json", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("data_dir", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print exactly one JSON object on stdout.")
@click.option("--min-score", type=click.FloatRange(0.0, 1.0), default=None,
              help="Score only the rings scoring at least this [default: every ring in the file].")
def eval_cmd(rings_json: Path, data_dir: Path, as_json: bool, min_score: float | None) -> None:
    """Score RINGS_JSON against DATA_DIR/truth.csv: ring recall, precision and F1 per typology
    and overall, and patient precision/recall.

    A detected ring matches a truth ring of the same typology when the Jaccard similarity of
    their patient sets is >= 0.5 (cards count as their holders); matching is one-to-one, best
    first. Ratios with a zero denominator are 0. Every unmatched ring is given a miss kind
    (truth rings: mistyped, merged, split, diluted, missed; detected rings: duplicate,
    mistyped, merged, split, diluted, lookalike, innocent, mixed; the rules are in the
    docstring of graphkit.evaluate), counted per typology; also printed: the largest share of
    patients two rings have in common and, when DATA_DIR/lookalikes.csv exists, the look-alike
    cohorts reported as rings. --json carries each unmatched ring with its kind and reason,
    and recall / precision per scenario when DATA_DIR/scenarios.csv exists. Exit 2 for a
    malformed rings file or a directory without truth.csv.

    \b
    Example:
      graphkit rings data_samples/demo -o out/demo
      graphkit eval out/demo/rings.json data_samples/demo
      graphkit eval out/demo/rings.json data_samples/demo --json
      graphkit eval out/demo/rings.json data_samples/demo --min-score 0.7
    """
    from graphkit.evaluate import evaluate, format_table

    with library_errors():
        result = evaluate(rings_json, data_dir, min_score=min_score)
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
    else:
        click.echo(format_table(result))
