"""The fpgaflow command line: one sub-command per module in this package."""

from fpgaflow.cli.main import main

__all__ = ["main"]
