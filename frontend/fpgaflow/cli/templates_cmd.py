"""`fpgaflow templates export DIR`: copy the shipped RTL and HLS templates into a folder to edit and keep."""

from __future__ import annotations

import argparse
from pathlib import Path

from fpgaflow.backends.rtl.templates import export_templates


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("templates", help="export the RTL/HLS templates to edit; build with --templates DIR")
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    export = actions.add_parser("export", help="copy the shipped templates and a README of their contracts into DIR")
    export.add_argument("dir", type=Path, help="a new or empty folder")
    export.set_defaults(handler=run_export)


def run_export(args: argparse.Namespace) -> int:
    written = export_templates(args.dir)
    print(f"wrote {len(written)} files into {args.dir} (see {args.dir / 'README.md'}); "
          f"build with --templates {args.dir}")
    return 0
