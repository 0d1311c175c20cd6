"""Session set-up shared by every test module."""

from __future__ import annotations

import os

import pytest

from fpgaflow.hw.verilator_objects import OBJECTS_ENV


@pytest.fixture(scope="session", autouse=True)
def shared_verilator_objects(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Let the session's Verilator builds share their runtime objects (hw.verilator_objects).

    Under pytest-xdist every worker has its own base folder; their common parent is the
    session's, so the workers share one cache.
    """
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    os.environ.setdefault(OBJECTS_ENV, str(root / "verilator-objects"))
