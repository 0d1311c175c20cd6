"""The hand-written RTL library: which modules a generated top needs, and their sources.

A top instantiates some library modules, and those instantiate others (an engine uses
the MAC core, a converter a FIFO). The closure is found by reading the shipped sources
for instantiations of other library modules, so adding a module to rtl/ needs no list
kept here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from fpgaflow.package_data import share_dir

_MODULE = re.compile(r"^\s*module\s+([A-Za-z_][A-Za-z0-9_]*)", re.MULTILINE)
_COMMENT = re.compile(r"//[^\n]*|/\*.*?\*/", re.DOTALL)


def library_modules(rtl_dirs: Sequence[Path] = ()) -> dict[str, Path]:
    """Every module defined in the rtl/*.sv files, by name.

    rtl_dirs is the search path, first folder first (fpgaflow.backends.rtl.templates: a user's
    override folder, then the shipped rtl/); a file replaces the file of the same name in
    a later folder. Empty: the shipped folder alone.
    """
    files: dict[str, Path] = {}
    for folder in reversed(list(rtl_dirs) or [share_dir("rtl")]):
        files.update((path.name, path) for path in folder.glob("*.sv"))
    modules = {}
    for file_name in sorted(files):
        for name in _MODULE.findall(_COMMENT.sub("", files[file_name].read_text())):
            modules[name] = files[file_name]
    return modules


def _instantiated(text: str, candidates: set[str]) -> set[str]:
    """Library modules instantiated in a source text (a candidate name followed by #( or an instance name)."""
    body = _COMMENT.sub("", text)
    found = set()
    for name in candidates:
        if re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}\s*(#\s*\(|[A-Za-z_][A-Za-z0-9_]*\s*\()", body):
            found.add(name)
    return found


def required_files(top_modules: list[str], rtl_dirs: Sequence[Path] = ()) -> list[Path]:
    """Source files of the given modules and of every library module they use, sorted by file name."""
    modules = library_modules(rtl_dirs)
    missing = sorted(set(top_modules) - set(modules))
    if missing:
        folders = ", ".join(str(folder) for folder in rtl_dirs) or str(share_dir("rtl"))
        raise ValueError(f"the RTL library in {folders} has no module {', '.join(missing)}")
    needed: set[str] = set()
    pending = list(top_modules)
    while pending:
        name = pending.pop()
        if name in needed:
            continue
        needed.add(name)
        text = modules[name].read_text()
        pending.extend(_instantiated(text, set(modules) - needed - {name}))
    return sorted({modules[name] for name in needed}, key=lambda p: p.name)
