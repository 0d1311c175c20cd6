"""Progress display for the slow steps of a command (rich spinner or bar on a terminal, one line otherwise)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

_console = Console(stderr=True)


@contextlib.contextmanager
def step(what: str) -> Iterator[None]:
    """Show `what` while the block runs (steps of more than a second)."""
    with _console.status(f"{what} ...", spinner="dots"):
        yield
    _console.print(f"[green]done[/green] {what}", highlight=False)


class TaskCounter:
    """A bar for many independent tasks (an explore sweep): done of total, and how many run and failed."""

    def __init__(self, what: str, total: int) -> None:
        self._bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                             TextColumn("{task.fields[state]}"), TimeElapsedColumn(), console=_console)
        self._task = self._bar.add_task(what, total=total, state="")
        self.what = what

    def __enter__(self) -> TaskCounter:
        self._bar.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._bar.stop()

    def update(self, done: int, running: int, failed: int) -> None:
        self._bar.update(self._task, completed=done, state=f"running {running}, failed {failed}")


@contextlib.contextmanager
def counter(what: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar for `what`; the block calls the yielded update(done, total) (the total may grow)."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=_console, transient=True) as bars:
        task = bars.add_task(what, total=None)

        def update(done: int, total: int) -> None:
            bars.update(task, completed=done, total=total)

        yield update
    _console.print(f"[green]done[/green] {what}", highlight=False)
