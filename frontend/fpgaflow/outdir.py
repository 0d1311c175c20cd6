"""The output folder of a build: what fpgaflow writes there, and only that, is replaced.

A user may keep their own notes, scripts or constraint files in the folder they pass as
--out. fpgaflow therefore records every file (and tool work folder) it generates in a
manifest; a re-run writes the new set, then deletes what the previous manifest listed
and this run did not write again. Files that no manifest lists are never touched, and
every path is checked to stay inside the folder, so nothing is written outside it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path, PurePosixPath

from fpgaflow.errors import UserError

MANIFEST = ".fpgaflow-manifest.json"


class OutputDir:
    """Writes generated files into one folder and keeps its manifest.

    Use `file(relpath)` to get a path to write (it creates parent folders and records
    it), `write_text`/`write_bytes` for content, `work_dir` for a folder a tool fills
    (the simulation build), then `commit()` to delete stale generated files and save the
    manifest.
    """

    def __init__(self, root: Path) -> None:
        if root.exists() and not root.is_dir():
            raise UserError(f"--out {root} is a file; give a folder (it is created if missing)")
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise UserError(f"cannot create output folder {root} ({error.strerror}); choose another --out") from None
        self.root = root.resolve()
        self._previous = self._read_manifest()
        self._files: set[str] = set()
        self._dirs: set[str] = set()

    def _read_manifest(self) -> dict[str, list[str]]:
        path = self.root / MANIFEST
        if not path.is_file():
            return {"files": [], "dirs": []}
        try:
            data = json.loads(path.read_text())
            return {"files": list(data.get("files", [])), "dirs": list(data.get("dirs", []))}
        except (json.JSONDecodeError, AttributeError):
            raise UserError(f"{path} is damaged; delete it (fpgaflow then keeps every existing file)") from None

    def previous_files(self) -> list[str]:
        """The files the last run recorded (for `fpgaflow verify`, which reads a build)."""
        return list(self._previous["files"])

    def _inside(self, relpath: str) -> Path:
        """The absolute path of relpath, refusing anything that would leave the folder."""
        rel = PurePosixPath(relpath)
        if rel.is_absolute() or ".." in rel.parts or not rel.parts or relpath == MANIFEST:
            raise ValueError(f"generated path {relpath!r} must be a plain relative path inside the output folder")
        path = self.root.joinpath(*rel.parts)
        if self.root not in path.resolve().parents:
            raise ValueError(f"generated path {relpath!r} resolves outside {self.root}")
        return path

    def file(self, relpath: str) -> Path:
        """Record relpath as generated and return its path, with its folder created."""
        path = self._inside(relpath)
        if path.is_dir():
            raise UserError(f"{path} is a folder, but fpgaflow generates a file there; move it away")
        path.parent.mkdir(parents=True, exist_ok=True)
        self._files.add(str(PurePosixPath(relpath)))
        return path

    def write_text(self, relpath: str, text: str) -> Path:
        path = self.file(relpath)
        path.write_text(text, encoding="utf-8", newline="\n")
        return path

    def write_bytes(self, relpath: str, data: bytes) -> Path:
        path = self.file(relpath)
        path.write_bytes(data)
        return path

    def work_dir(self, relpath: str) -> Path:
        """A folder that a tool fills with files fpgaflow does not list one by one; it is owned whole."""
        path = self._inside(relpath)
        path.mkdir(parents=True, exist_ok=True)
        self._dirs.add(str(PurePosixPath(relpath)))
        return path

    def keep_previous(self, prefix: str = "") -> None:
        """Keep the previous run's generated files under prefix (a step that is not re-run this time)."""
        self._files.update(f for f in self._previous["files"] if f.startswith(prefix))
        self._dirs.update(d for d in self._previous["dirs"] if d.startswith(prefix))

    def commit(self) -> None:
        """Delete generated files of the previous run that this run did not write, then save the manifest."""
        for relpath in sorted(set(self._previous["files"]) - self._files):
            path = self._inside(relpath)
            if path.is_file():
                path.unlink()
        for relpath in sorted(set(self._previous["dirs"]) - self._dirs):
            path = self._inside(relpath)
            if path.is_dir():
                shutil.rmtree(path)
        self._remove_empty_folders()
        manifest = {"files": sorted(self._files), "dirs": sorted(self._dirs)}
        (self.root / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")

    def _remove_empty_folders(self) -> None:
        """Remove folders that only generated files filled and that are now empty."""
        owned = {PurePosixPath(f).parent for f in self._previous["files"]} - {PurePosixPath(".")}
        for folder in sorted(owned, key=lambda p: len(p.parts), reverse=True):
            path = self.root.joinpath(*folder.parts)
            if path.is_dir() and not any(path.iterdir()):
                path.rmdir()
