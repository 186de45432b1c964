"""The ``graphkit`` command line: a thin shell over the library.

Each command parses options, builds one settings object, calls one library function and turns
:class:`graphkit.errors.GraphkitError` into a one-line message and a non-zero exit.
"""

from __future__ import annotations

import click

from graphkit import __version__
from graphkit.commands.rings import rings_cmd
from graphkit.commands.validate import validate_cmd
from graphkit.commands.neo4j import neo4j_group
from graphkit.commands.synth import synth_cmd
from graphkit.commands.evaluate import eval_cmd
from graphkit.commands.render import keygen_cmd, package_cmd, render_cmd, verify_cmd


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="graphkit")
def main() -> None:
    """graphkit: find organised fraud in 医保 claims by treating it as a graph.

    \b
    Example:
      graphkit validate data_samples/demo
      graphkit rings data_samples/demo -o out/demo
    """


main.add_command(validate_cmd)
main.add_command(rings_cmd)
main.add_command(synth_cmd)
main.add_command(eval_cmd)
main.add_command(render_cmd)
main.add_command(package_cmd)
main.add_command(verify_cmd)
main.add_command(keygen_cmd)
main.add_command(neo4j_group)
