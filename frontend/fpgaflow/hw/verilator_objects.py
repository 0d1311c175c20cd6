"""Share Verilator's runtime objects between the Verilator builds of one session.

Every cocotb build of a Verilator model compiles the same four runtime files (verilated.cpp
and its DPI, VPI and thread support) before the model: about 22 s of CPU at Verilator's
-Os, more than half the build of a small module. They depend only on the compiler command
that builds them, so when the environment variable FPGAFLOW_VERILATOR_OBJECTS names a
folder, each build copies in the objects an earlier build compiled with the same command
and leaves there the ones it had to compile itself. The test suite sets it for its
session; a user's build leaves it unset, and then nothing is written outside the build.

The two steps run between the runner's `verilator` and `make` commands and after `make`:

    python -m fpgaflow.hw.verilator_objects restore|keep BUILD_DIR CACHE_DIR [MAKE_ARG ...]
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

OBJECTS_ENV = "FPGAFLOW_VERILATOR_OBJECTS"
"""Environment variable naming the folder of shared runtime objects (unset: no sharing)."""

RUNTIME_OBJECTS = ("verilated.o", "verilated_dpi.o", "verilated_vpi.o", "verilated_threads.o")
"""Objects whose sources are Verilator's own, the same for every model."""

_COMPILE = re.compile(r"\s-c\s+-o\s+(\S+\.o)\s")


def compile_commands(build_dir: Path, make_args: list[str]) -> dict[str, str]:
    """Runtime object name -> the compiler command `make` runs for it in `build_dir`.

    `make -n -B` prints every command whether or not its target is up to date, so the
    same commands come out before and after the build.
    """
    printed = subprocess.run(["make", "-n", "-B", "-f", "Vtop.mk", *make_args], cwd=build_dir,
                             capture_output=True, text=True, check=True).stdout
    commands: dict[str, str] = {}
    for line in printed.splitlines():
        match = _COMPILE.search(line + " ")
        if match and match.group(1) in RUNTIME_OBJECTS:
            commands[match.group(1)] = " ".join(line.split())
    return commands


def cached_name(obj: str, command: str) -> str:
    """The object's file name in the cache: its stem and a digest of its compiler command
    and of the source file it compiles (another Verilator at the same path differs there)."""
    digest = hashlib.sha256(command.encode())
    for word in command.split():
        if word.endswith(".cpp") and Path(word).is_file():
            digest.update(Path(word).read_bytes())
    return f"{Path(obj).stem}-{digest.hexdigest()[:16]}.o"


def restore(build_dir: Path, cache: Path, make_args: list[str]) -> int:
    """Copy into `build_dir` each runtime object the cache holds; returns how many.

    A copy gets a fresh modification time, newer than its source, so `make` keeps it.
    """
    restored = 0
    for obj, command in compile_commands(build_dir, make_args).items():
        cached = cache / cached_name(obj, command)
        if cached.is_file():
            shutil.copyfile(cached, build_dir / obj)
            restored += 1
    return restored


def keep(build_dir: Path, cache: Path, make_args: list[str]) -> int:
    """Put into the cache each runtime object of `build_dir` it lacks; returns how many.

    Each file is written under a temporary name and renamed, so a build running at the same
    time (another pytest-xdist worker) never copies half an object.
    """
    cache.mkdir(parents=True, exist_ok=True)
    kept = 0
    for obj, command in compile_commands(build_dir, make_args).items():
        cached = cache / cached_name(obj, command)
        built = build_dir / obj
        if cached.is_file() or not built.is_file():
            continue
        handle, temporary = tempfile.mkstemp(dir=cache, suffix=".part")
        os.close(handle)
        shutil.copyfile(built, temporary)
        os.replace(temporary, cached)
        kept += 1
    return kept


def main(argv: list[str]) -> int:
    """Command line of the two steps (see the module docstring)."""
    if len(argv) < 3 or argv[0] not in ("restore", "keep"):
        print("usage: python -m fpgaflow.hw.verilator_objects restore|keep BUILD_DIR CACHE_DIR [MAKE_ARG ...]",
              file=sys.stderr)
        return 2
    step = restore if argv[0] == "restore" else keep
    count = step(Path(argv[1]), Path(argv[2]), argv[3:])
    print(f"verilator_objects {argv[0]}: {count} runtime object(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
