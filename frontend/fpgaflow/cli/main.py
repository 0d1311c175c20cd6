"""Entry point of the `fpgaflow` console script.

Each sub-command lives in its own module of this package with two functions:
`register(subparsers)` adds its parser and sets `handler` to a function taking the
parsed arguments and returning an exit code. A UserError anywhere becomes one line on
stderr and exit code 2; `--debug` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence
from importlib import import_module

from fpgaflow import __version__
from fpgaflow.errors import UserError

COMMAND_MODULES: tuple[str, ...] = (
    "inspect_cmd", "run_cmd", "prune_cmd", "quantize_cmd", "build_cmd", "verify_cmd", "explore_cmd",
    "export_hls4ml_cmd", "boards_cmd", "templates_cmd",
)
"""Sub-command modules of fpgaflow.cli, in the order `fpgaflow --help` lists them."""


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors through UserError's exit code (2) in one line."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(UserError.exit_code, f"fpgaflow: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="fpgaflow", description="Prune, quantize and deploy CNNs as sparse dataflow hardware.")
    parser.add_argument("--version", action="version", version=f"fpgaflow {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    subparsers.required = True
    for module_name in COMMAND_MODULES:
        import_module(f"fpgaflow.cli.{module_name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except UserError as error:
        if args.debug:
            traceback.print_exc()
        print(f"fpgaflow: error: {error}", file=sys.stderr)
        return UserError.exit_code
    except BrokenPipeError:
        # The reader went away (`fpgaflow inspect ... | head`): not an error of ours.
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("fpgaflow: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
