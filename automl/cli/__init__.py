"""The `automl` command: fit, predict, explain, serve, report, validate, bench.

`app` holds the entry (`main`) and the parser each command adds itself to; a module per
command or pair of commands (`fit`, `predict` with `explain`, `serve`, `report` with
`validate`, `bench`) holds its options, their checks and its run; `shared` what several use.
A deliberate error is one line, exit 2. The libraries that take seconds to import are
imported inside the commands, after their arguments are checked.
"""

from automl.cli.app import build_parser, main, subparsers

__all__ = ["build_parser", "main", "subparsers"]
