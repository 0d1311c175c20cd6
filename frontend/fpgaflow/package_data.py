"""Where the non-Python parts of fpgaflow live at run time.

rtl/, hls_templates/, sim/ and boards/ sit at the top of the repository and ship in the
wheel as the packages fpgaflow.share.*; setuptools maps them for editable installs too,
so importlib.resources finds them the same way in both.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

SHARED_FOLDERS = ("rtl", "hls_templates", "sim", "boards")


def share_dir(folder: str) -> Path:
    """The directory of one shipped folder (rtl, hls_templates, sim or boards)."""
    if folder not in SHARED_FOLDERS:
        raise ValueError(f"unknown shipped folder {folder!r}; known: {', '.join(SHARED_FOLDERS)}")
    traversable = resources.files(f"fpgaflow.share.{folder}")
    return Path(str(traversable))
