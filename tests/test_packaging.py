"""The wheel carries rtl/, hls_templates/, sim/ and boards/ and finds them the way an editable install does."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import venv
import zipfile
from pathlib import Path

import pytest

from fpgaflow.package_data import SHARED_FOLDERS, share_dir

REPO = Path(__file__).resolve().parents[1]


def test_every_python_package_is_listed_in_pyproject() -> None:
    """pyproject.toml lists packages by hand (four come from outside frontend/); none may be forgotten."""
    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {
        ".".join(init.parent.relative_to(REPO / "frontend").parts)
        for init in (REPO / "frontend" / "fpgaflow").rglob("__init__.py")
    }
    assert found <= listed, f"packages missing from pyproject.toml: {sorted(found - listed)}"


def test_editable_install_finds_the_repository_folders() -> None:
    for folder in SHARED_FOLDERS:
        assert share_dir(folder).resolve() == (REPO / folder).resolve()


def _shipped_files(folder: str) -> set[str]:
    """Files of a top-level folder that the wheel must carry (what package-data selects)."""
    patterns = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    return {
        path.name
        for pattern in patterns[f"fpgaflow.share.{folder}"] + ["__init__.py"]
        for path in (REPO / folder).glob(pattern)
    }


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(REPO)],
        check=True,
        capture_output=True,
    )
    (path,) = out.glob("fpgaflow-*.whl")
    return path


def test_wheel_contains_the_shipped_folders(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder in SHARED_FOLDERS:
        expected = {f"fpgaflow/share/{folder}/{name}" for name in _shipped_files(folder)}
        assert expected <= names, f"wheel lacks {sorted(expected - names)}"


def test_wheel_install_finds_the_shipped_folders(wheel: Path, tmp_path: Path) -> None:
    """Install the wheel alone (no dependencies) into a fresh venv and ask it where its folders are."""
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
    )
    probe = (
        "from fpgaflow.package_data import share_dir, SHARED_FOLDERS\n"
        "for f in SHARED_FOLDERS:\n"
        "    d = share_dir(f)\n"
        "    print(f, d, sorted(p.name for p in d.iterdir()))\n"
    )
    result = subprocess.run([str(python), "-c", probe], check=True, capture_output=True, text=True, cwd=tmp_path)
    for line, folder in zip(result.stdout.splitlines(), SHARED_FOLDERS, strict=True):
        name, location, listing = line.split(" ", 2)
        assert name == folder
        assert str(env_dir) in location, f"{folder} resolved outside the installed wheel: {location}"
        for shipped in _shipped_files(folder):
            assert shipped in listing
