"""Progress display for the slow steps of a command (rich spinner on a terminal, one line otherwise)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from rich.console import Console

_console = Console(stderr=True)


@contextlib.contextmanager
def step(what: str) -> Iterator[None]:
    """Show `what` while the block runs (steps of more than a second)."""
    with _console.status(f"{what} ...", spinner="dots"):
        yield
    _console.print(f"[green]done[/green] {what}", highlight=False)
