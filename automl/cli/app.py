"""The `automl` command's entry: its parser (one module a command adds its own), and how an
error ends: a deliberate one is one line, exit 2.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from automl.cli import bench, fit, predict, report, serve
from automl.errors import AutoMLError
from automl.version import __version__


EXIT_USAGE = 2


def main(argv: list[str] | None = None) -> int:
    started = time.time()  # a fit's time budget holds for the whole command
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else argv
    try:
        args = parser.parse_args(_attach_dash_values(argv, parser))
        args.started = started
        if not getattr(args, "command", None):
            parser.print_help()
            return EXIT_USAGE
        return args.handler(args) or 0
    except AutoMLError as err:
        print(f"automl: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("automl: interrupted; continue with 'automl fit --resume RUN_DIR'", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `automl predict ... | head`: the reader left, no error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


class _Parser(argparse.ArgumentParser):
    """argparse, its errors in the project's voice: raised as ConfigError, so they print
    as one line and exit 2 like every other bad input (argparse prints its usage too)."""

    def error(self, message: str):
        from automl.errors import ConfigError

        raise ConfigError(f"{message}; see '{self.prog} --help'")


def subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """The parser of each command, by name."""
    found = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(found[0].choices) if found else {}


def _attach_dash_values(argv: list[str], parser: argparse.ArgumentParser) -> list[str]:
    """'--time-budget -5s' as '--time-budget=-5s': argparse takes a value that starts with
    '-' for an option of its own and answers 'expected one argument', which hides the
    real problem; joined, the value reaches its check and gets its own message."""
    known, takes_value = set(), set()
    for each in (parser, *subparsers(parser).values()):
        for action in each._actions:
            known.update(action.option_strings)
            if action.option_strings and action.nargs is None:  # one value follows
                takes_value.update(action.option_strings)
    joined, tokens = [], iter(argv)
    for token in tokens:
        following = next(tokens, None) if token in takes_value else None
        if following is not None and following.startswith("-") \
                and following.split("=")[0] not in known:
            joined.append(f"{token}={following}")
        else:
            joined += [token] + ([following] if following is not None else [])
    return joined


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="automl", description="AutoML for tables: search, ensemble, distill, export.")
    parser.add_argument("--version", action="version", version=f"automl {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    fit.add(commands)
    predict.add_predict(commands)
    predict.add_explain(commands)
    serve.add(commands)
    report.add_report(commands)
    report.add_validate(commands)
    bench.add(commands)
    return parser
