"""The sweep's folder: points.jsonl, one line per finished point, and what each point kept.

The folder belongs to fpgaflow when its marker file `.fpgaflow-explore.json` is there;
fpgaflow then resumes into it (the points already recorded are not run again). A folder
that exists, is not empty and has no marker is refused, like a foreign build folder
(fpgaflow.outdir): nothing of the user's is overwritten.

A record is appended, flushed and synced as soon as its point finishes, so a sweep cut
short loses only the points that were running. A torn last line (a kill mid-write) is
skipped when read and its point runs again.
"""

from __future__ import annotations

import json
import os
from pathlib import Path, PurePosixPath
from typing import Any

from fpgaflow.errors import UserError

MARKER = ".fpgaflow-explore.json"
POINTS = "points.jsonl"
POINT_DIR = "points"
FRONT_CHECKS = "front_checks.jsonl"


class SweepFolder:
    """The --out folder of `fpgaflow explore`: created or resumed, never taken from the user."""

    def __init__(self, root: Path, about: dict[str, Any]) -> None:
        if root.exists() and not root.is_dir():
            raise UserError(f"--out {root} is a file; give a folder (it is created if missing)")
        marker = root / MARKER
        if marker.is_symlink() or (root.is_dir() and any(root.iterdir()) and not marker.is_file()):
            raise UserError(f"--out {root} is not empty and not an fpgaflow explore folder; choose a new or empty folder")
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise UserError(f"cannot create output folder {root} ({error.strerror}); choose another --out") from None
        self.root = root
        if not marker.is_file():
            marker.write_text(json.dumps({"fpgaflow": "explore", **about}, indent=1, sort_keys=True) + "\n")

    def path(self, relpath: str) -> Path:
        """A path inside the folder; refuses links on the way (fpgaflow never writes through one)."""
        parts = PurePosixPath(relpath).parts
        for depth in range(1, len(parts) + 1):
            if (self.root.joinpath(*parts[:depth])).is_symlink():
                raise UserError(f"{self.root.joinpath(*parts[:depth])} is a link; fpgaflow never writes through links; remove it")
        return self.root.joinpath(*parts)

    def records(self, name: str = POINTS) -> dict[str, dict[str, Any]]:
        """The records of a .jsonl file by key (a later line for the same key wins; torn lines are skipped)."""
        path = self.path(name)
        found: dict[str, dict[str, Any]] = {}
        if not path.is_file():
            return found
        for line in path.read_text().splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(record, dict) and isinstance(record.get("key"), str):
                found[record["key"]] = record
        return found

    def append(self, record: dict[str, Any], name: str = POINTS) -> None:
        """Add one record as one line, on disk before this returns."""
        path = self.path(name)
        text = json.dumps(record, sort_keys=True) + "\n"
        with path.open("a", encoding="utf-8") as handle:
            if handle.tell() and not path.read_bytes().endswith(b"\n"):
                handle.write("\n")  # after a torn line, start a fresh one
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())

    def keep(self, key: str, files: dict[str, bytes]) -> None:
        """Write a point's files (pruned model, build report) into points/KEY/."""
        for name, data in sorted(files.items()):
            target = self.path(f"{POINT_DIR}/{key}/{name}")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)

    def write(self, relpath: str, data: bytes) -> None:
        self.path(relpath).write_bytes(data)
