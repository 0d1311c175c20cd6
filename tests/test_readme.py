"""CI runs exactly the README's Quick start: the same install, main job and test command."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def quick_start_commands() -> list[str]:
    """The shell commands of the README's Quick start section, in order."""
    text = (REPO / "README.md").read_text()
    section = re.search(r"^## Quick start\n(.*?)(?=^## )", text, re.S | re.M)
    assert section, "README.md has no '## Quick start' section"
    blocks = re.findall(r"```(?:sh|bash)?\n(.*?)```", section.group(1), re.S)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip() and not line.startswith("#")]


def test_quick_start_has_two_commands() -> None:
    assert len(quick_start_commands()) == 2


def test_ci_runs_the_quick_start_commands() -> None:
    ci_lines = [line.strip() for line in (REPO / ".ci" / "run").read_text().splitlines()]
    for command in quick_start_commands():
        # The README's first command starts by creating the venv, which .ci/run does on its own line.
        tail = command.split(" && ", 1)[1] if command.startswith("python3 -m venv") else command
        assert any(line.endswith(tail) for line in ci_lines), f".ci/run does not run: {command}"
