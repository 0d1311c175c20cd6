"""The output folder of a build: fpgaflow writes, replaces and deletes only what it wrote there.

A build folder belongs to fpgaflow only when fpgaflow made it. Its manifest
(`.fpgaflow-manifest.json`) lists every file and tool work folder fpgaflow generated there;
anything else in the folder (a user's notes, constraints, a Vivado run) is never touched.
So:

- a folder that exists, is not empty and has no manifest is refused unless `force` is
  given, and even then a file already there is never overwritten or deleted;
- a run writes everything into a staging folder inside the output folder
  (`.fpgaflow-partial`) and moves it into place only in `commit()`, so a failed or
  interrupted run leaves the previous build as it was; the manifest is written first with
  `complete: false` and last with `complete: true`, so a folder whose commit was cut short
  never looks finished (`fpgaflow verify` refuses it);
- links are never followed: a generated path that crosses a link inside the folder is
  refused, and a link where a generated file was is left alone.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path, PurePosixPath

from fpgaflow.errors import UserError

MANIFEST = ".fpgaflow-manifest.json"
STAGING = ".fpgaflow-partial"
STAGING_MARK = ".fpgaflow-staging"
"""A file inside the staging folder that marks it as fpgaflow's, so a leftover one may be removed."""
RESERVED = frozenset({MANIFEST, STAGING})


class OutputDir:
    """Writes generated files into one folder, through a staging folder, and keeps its manifest.

    Use `file(relpath)` to get a path to write (it creates parent folders and records it),
    `write_text`/`write_bytes` for content, `work_dir` for a folder a tool fills (the
    simulation build), `path(relpath)` to read what this run or the kept build holds, then
    `commit()` to move the new files into place, delete stale generated ones and save the
    manifest. `discard()` (or leaving a `with` block by an exception) drops this run's files.
    """

    def __init__(self, root: Path, force: bool = False, existing_build: bool = False) -> None:
        if root.exists() and not root.is_dir():
            raise UserError(f"--out {root} is a file; give a folder (it is created if missing)")
        manifest = self._read_manifest(root)
        if existing_build:
            if manifest is None:
                raise UserError(f"{root} is not an fpgaflow build folder (no {MANIFEST}); run `fpgaflow build` first")
            if not manifest["complete"]:
                raise UserError(f"the build in {root} did not finish; run `fpgaflow build` again")
        elif manifest is None and root.is_dir() and not force and any(p.name != STAGING for p in root.iterdir()):
            raise UserError(
                f"--out {root} is not empty and not an fpgaflow build folder; choose a new or empty folder "
                "(or pass --force to add fpgaflow's files beside yours: none of yours is overwritten)"
            )
        self._created = not root.exists()
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise UserError(f"cannot create output folder {root} ({error.strerror}); choose another --out") from None
        self.root = root.resolve()
        self.stage = self.root / STAGING
        self._previous = manifest if manifest is not None else {"complete": True, "files": [], "dirs": []}
        self._files: set[str] = set()
        self._dirs: set[str] = set()
        self._kept_files: set[str] = set()
        self._kept_dirs: set[str] = set()
        self._borrowed: set[str] = set()
        self._clear_stage()

    @staticmethod
    def _read_manifest(root: Path) -> dict | None:
        path = root / MANIFEST
        if path.is_symlink():
            raise UserError(f"{path} is a link; fpgaflow never writes through links; remove it")
        if not path.is_file():
            return None
        damaged = UserError(f"{path} is damaged; delete the folder or choose another --out")
        try:
            data = json.loads(path.read_text())
            files, dirs = list(data.get("files", [])), list(data.get("dirs", []))
        except (json.JSONDecodeError, AttributeError, TypeError):
            raise damaged from None
        if not all(isinstance(p, str) and _is_plain(p) for p in files + dirs):
            raise damaged
        return {"complete": bool(data.get("complete", True)), "files": files, "dirs": dirs}

    def _clear_stage(self) -> None:
        """Remove a staging folder a killed run left behind; refuse one that is not fpgaflow's."""
        if self.stage.is_symlink() or (self.stage.exists() and not (self.stage / STAGING_MARK).is_file()):
            raise UserError(f"{self.stage} is in the way of fpgaflow's staging folder; move it away")
        if self.stage.exists():
            shutil.rmtree(self.stage)

    def previous_files(self) -> list[str]:
        """The files the last run recorded (for `fpgaflow verify`, which reads a build)."""
        return list(self._previous["files"])

    def _owned(self, relpath: str) -> bool:
        """Whether the last run's manifest lists relpath, as a file or inside a work folder."""
        parents = {str(p) for p in PurePosixPath(relpath).parents}
        return relpath in self._previous["files"] or any(d == relpath or d in parents for d in self._previous["dirs"])

    def _target(self, relpath: str, is_dir: bool) -> Path:
        """The path in the output folder relpath will take; refuses links, foreign files and escapes."""
        if not _is_plain(relpath) or PurePosixPath(relpath).parts[0] in RESERVED:
            raise ValueError(f"generated path {relpath!r} must be a plain relative path inside the output folder")
        parts = PurePosixPath(relpath).parts
        for depth in range(1, len(parts)):
            folder = self.root.joinpath(*parts[:depth])
            if folder.is_symlink():
                raise UserError(f"{folder} is a link; fpgaflow never writes through links; remove it or choose another --out")
            if folder.exists() and not folder.is_dir():
                raise UserError(f"{folder} is a file, but fpgaflow generates a folder there; move it away")
        path = self.root.joinpath(*parts)
        if path.is_symlink():
            raise UserError(f"{path} is a link; fpgaflow never writes through links; remove it or choose another --out")
        if path.exists():
            if path.is_dir() != is_dir:
                kind = ("a folder", "a file") if path.is_dir() else ("a file", "a folder")
                raise UserError(f"{path} is {kind[0]}, but fpgaflow generates {kind[1]} there; move it away")
            if not self._owned(relpath):
                raise UserError(
                    f"{path} exists and fpgaflow did not write it; move it away or choose another --out "
                    "(fpgaflow never overwrites a file it did not write)"
                )
        return path

    def _staged(self, relpath: str) -> Path:
        if not self.stage.exists():
            self.stage.mkdir()
            (self.stage / STAGING_MARK).write_text("fpgaflow's staging folder; a run in progress or one that was cut short\n")
        return self.stage.joinpath(*PurePosixPath(relpath).parts)

    def file(self, relpath: str) -> Path:
        """Record relpath as generated and return the staging path to write it to, with its folder created."""
        self._target(relpath, is_dir=False)
        path = self._staged(relpath)
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
        """A folder that a tool fills with files fpgaflow does not list one by one; it is owned whole.

        The previous run's folder (a cache: the Verilator build) moves into the staging
        folder to be reused, and back again if this run is discarded.
        """
        target = self._target(relpath, is_dir=True)
        path = self._staged(relpath)
        path.parent.mkdir(parents=True, exist_ok=True)
        if target.is_dir() and not path.exists():
            os.replace(target, path)
            self._borrowed.add(str(PurePosixPath(relpath)))
        path.mkdir(exist_ok=True)
        self._dirs.add(str(PurePosixPath(relpath)))
        return path

    def path(self, relpath: str) -> Path:
        """Where to read relpath: this run's staged copy if it wrote one, else the folder's."""
        staged = self.stage.joinpath(*PurePosixPath(relpath).parts)
        if staged.exists():
            return staged
        parts = PurePosixPath(relpath).parts
        for depth in range(1, len(parts) + 1):
            if self.root.joinpath(*parts[:depth]).is_symlink():
                raise UserError(f"{self.root.joinpath(*parts[:depth])} is a link; fpgaflow reads only the build's own files")
        return self.root.joinpath(*parts)

    def keep_previous(self, prefix: str = "") -> None:
        """Keep the previous run's generated files under prefix (a step that is not re-run this time)."""
        self._kept_files.update(f for f in self._previous["files"] if f.startswith(prefix))
        self._kept_dirs.update(d for d in self._previous["dirs"] if d.startswith(prefix))

    def commit(self) -> None:
        """Move this run's files into place, delete stale generated ones, then mark the build complete."""
        for relpath in sorted(self._files):
            self._target(relpath, is_dir=False)
        for relpath in sorted(self._dirs):
            self._target(relpath, is_dir=True)
        files, dirs = self._files | self._kept_files, self._dirs | self._kept_dirs
        self._write_manifest(False, files | set(self._previous["files"]), dirs | set(self._previous["dirs"]))
        for relpath in sorted(self._dirs):
            target = self.root.joinpath(*PurePosixPath(relpath).parts)
            if target.is_dir():
                shutil.rmtree(target)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self._staged(relpath), target)
        for relpath in sorted(self._files):
            target = self.root.joinpath(*PurePosixPath(relpath).parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self._staged(relpath), target)
        for relpath in sorted(set(self._previous["files"]) - files):
            path = self._unlinked(relpath)
            if path is not None and path.is_file():
                path.unlink()
        for relpath in sorted(set(self._previous["dirs"]) - dirs):
            path = self._unlinked(relpath)
            if path is not None and path.is_dir():
                shutil.rmtree(path)
        self._remove_empty_folders()
        self._write_manifest(True, files, dirs)
        shutil.rmtree(self.stage)

    def discard(self) -> None:
        """Drop this run's staged files (a failed run); the folder keeps what it held before."""
        for relpath in sorted(self._borrowed):
            target = self.root.joinpath(*PurePosixPath(relpath).parts)
            if not target.exists() and not target.is_symlink():
                os.replace(self._staged(relpath), target)
        if self.stage.exists():
            shutil.rmtree(self.stage)
        if self._created and self.root.is_dir() and not any(self.root.iterdir()):
            self.root.rmdir()

    def __enter__(self) -> OutputDir:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is not None:
            self.discard()

    def _write_manifest(self, complete: bool, files: set[str], dirs: set[str]) -> None:
        """Replace the manifest in one step (a rename, which never follows a link)."""
        manifest = {"complete": complete, "files": sorted(files), "dirs": sorted(dirs)}
        scratch = self._staged(MANIFEST)
        scratch.write_text(json.dumps(manifest, indent=1) + "\n")
        os.replace(scratch, self.root / MANIFEST)

    def _unlinked(self, relpath: str) -> Path | None:
        """relpath in the folder, or None where it or a folder on its way is a link (never followed)."""
        parts = PurePosixPath(relpath).parts
        if any(self.root.joinpath(*parts[:depth]).is_symlink() for depth in range(1, len(parts) + 1)):
            return None
        return self.root.joinpath(*parts)

    def _remove_empty_folders(self) -> None:
        """Remove folders that only generated files filled and that are now empty."""
        generated = set(self._previous["files"]) | self._files | set(self._previous["dirs"]) | self._dirs
        owned = {p for f in generated for p in PurePosixPath(f).parents} - {PurePosixPath(".")}
        for folder in sorted(owned, key=lambda p: len(p.parts), reverse=True):
            path = self._unlinked(str(folder))
            if path is not None and path.is_dir() and not any(path.iterdir()):
                path.rmdir()


def _is_plain(relpath: str) -> bool:
    """A relative path with no '..', no absolute root and at least one part."""
    rel = PurePosixPath(relpath)
    return bool(rel.parts) and not rel.is_absolute() and ".." not in rel.parts and "." not in relpath.split("/")
