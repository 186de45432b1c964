"""Click commands, one module per family; :mod:`graphkit.cli` registers them on the group."""
