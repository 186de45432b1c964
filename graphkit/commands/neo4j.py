"""``graphkit neo4j``: load a data directory into Neo4j over Bolt and run named Cypher queries."""

from __future__ import annotations

from pathlib import Path

import click

from graphkit.commands._common import keep_rejects, library_errors, stderr_is_tty
from graphkit.commands.validate import default_rejects_path

_URI_HELP = "Bolt URI of the server [env NEO4J_URI; default bolt://localhost:7687]."


def _connection_options(f):
    f = click.option("--password", envvar="NEO4J_PASSWORD", default=None,
                     help="Password [env NEO4J_PASSWORD].")(f)
    f = click.option("--user", envvar="NEO4J_USER", default=None,
                     help="User name; without one the connection uses no auth [env NEO4J_USER].")(f)
    f = click.option("--uri", envvar="NEO4J_URI", default="bolt://localhost:7687",
                     show_default=False, help=_URI_HELP)(f)
    return f


@click.group("neo4j")
def neo4j_group() -> None:
    """Neo4j backend: load data over Bolt and run the named queries of cypher/.

    Works with Neo4j 5 and with other Bolt servers that speak the same Cypher (FalkorDB).

    \b
    Example:
      graphkit neo4j load data_samples/demo --uri bolt://localhost:7687
      graphkit neo4j query claims_after_death --param grace_days=3
    """


@neo4j_group.command("load")
@click.argument("data_dir", type=click.Path(path_type=Path))
@_connection_options
@click.option("--batch", "batch_size", type=click.IntRange(min=1), default=10_000,
              show_default=True, help="Rows per UNWIND batch.")
@click.option("--restart", is_flag=True,
              help="Merge every batch again instead of resuming an interrupted load.")
@click.option("--rejects", "rejects_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write rows that did not load [default: DATA_DIR/../<name>.rejects.csv].")
def load_cmd(data_dir: Path, uri: str, user: str | None, password: str | None, batch_size: int,
             restart: bool, rejects_path: Path | None) -> None:
    """Load DATA_DIR into the graph database at --uri.

    Creates the indexes (and on Neo4j the uniqueness constraints), then merges every accepted
    row in batches: loading twice creates nothing new, and a load cut off half way resumes where
    it stopped when run again. Prints the nodes and relationships written; rows that did not
    load go to a rejects file (as with `graphkit validate`).

    \b
    Example:
      graphkit neo4j load data_samples/demo --uri bolt://localhost:7687
      NEO4J_USER=neo4j NEO4J_PASSWORD=secret graphkit neo4j load data/city --batch 20000
    """
    from graphkit.load import load
    from graphkit.neo4j_backend import Neo4jStore

    with library_errors():
        ds = load(data_dir, progress=stderr_is_tty())
        keep_rejects(ds, rejects_path or default_rejects_path(data_dir), click.echo,
                     "choose another place with --rejects PATH")
        with Neo4jStore.connect(uri, user, password) as store:
            report = _load_with_progress(store, ds, batch_size, not restart)
    click.echo(f"loaded {report.rows:,} rows in {report.batches:,} batches "
               f"({report.rows_per_second:,.0f} rows/s)"
               + (f"; {report.batches_skipped:,} batches already loaded were skipped"
                  if report.batches_skipped else ""))
    click.echo(f"nodes created: {report.nodes_created:,}")
    click.echo(f"relationships created: {report.relationships_created:,}")


def _load_with_progress(store, ds, batch_size: int, resume: bool):
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                               TimeRemainingColumn)

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeRemainingColumn(), disable=not stderr_is_tty(), transient=False) as bar:
        task = bar.add_task("loading", total=None)
        return store.load_dataset(
            ds, batch_size=batch_size, resume=resume,
            on_start=lambda total: bar.update(task, total=total),
            on_batch=lambda step, n, _i: bar.update(task, advance=n,
                                                    description=step.replace("load_", "")))


@neo4j_group.command("query")
@click.argument("name")
@click.option("--param", "-p", "params", multiple=True, metavar="NAME=VALUE",
              help="A query parameter (repeatable); lists are comma-separated.")
@_connection_options
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV instead of a table.")
@click.option("--limit", type=click.IntRange(min=0), default=200, show_default=True,
              help="Rows shown in the table (0: all); --csv prints all.")
def query_cmd(name: str, params: tuple[str, ...], uri: str, user: str | None,
              password: str | None, as_csv: bool, limit: int) -> None:
    """Run the named query cypher/NAME.cypher and print its rows.

    Parameters not given take the defaults declared in the file's header; `graphkit neo4j
    queries` lists the names.

    \b
    Example:
      graphkit neo4j query trace_code_resettled --uri bolt://localhost:7687
      graphkit neo4j query ring_subgraph -p patient_ids=P01,P02 --csv > ring.csv
    """
    from graphkit.neo4j_backend import Neo4jStore, get_query, parse_param

    with library_errors():
        query = get_query(name)
        values = dict(parse_param(query, p) for p in params)
        with Neo4jStore.connect(uri, user, password) as store:
            df = store.run(name, values)
    if as_csv:
        click.echo(df.to_csv(index=False), nl=False)
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    con = Console(highlight=False, soft_wrap=True)
    shown = df if limit == 0 else df.head(limit)
    t = Table(title=f"{name} ({len(df):,} rows)")
    for col in df.columns:
        t.add_column(str(col), overflow="fold")
    for rec in shown.itertuples(index=False):
        t.add_row(*[Text("" if v is None or v != v else str(v)) for v in rec])
    con.print(t, markup=False)
    if len(shown) < len(df):
        con.print(f"... {len(df) - len(shown):,} more rows (use --limit 0 or --csv)")


@neo4j_group.command("queries")
def queries_cmd() -> None:
    """List the named queries of cypher/ with their parameters.

    \b
    Example:
      graphkit neo4j queries
    """
    from graphkit.neo4j_backend import get_query, list_queries

    with library_errors():
        for n in list_queries():
            q = get_query(n)
            if q.kind in ("load", "internal", "schema"):
                continue
            params = " ".join(f"${p.name}" + (f"={p.default}" if not p.required else "")
                              for p in q.params)
            click.echo(f"{n:24} {q.kind:6} {params}")
            click.echo(f"{'':24} {q.title}")
