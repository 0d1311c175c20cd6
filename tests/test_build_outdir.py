"""The output folder keeps the user's files, replaces only generated ones, and never leaves the folder."""

import json

import pytest

from fpgaflow.errors import UserError
from fpgaflow.outdir import MANIFEST, OutputDir


def test_rerun_replaces_only_generated_files(tmp_path):
    first = OutputDir(tmp_path)
    first.write_text("rtl/top.sv", "old top")
    first.write_text("rtl/old_engine.sv", "gone next time")
    first.commit()
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / "rtl" / "my_constraints.xdc").write_text("mine too")

    second = OutputDir(tmp_path)
    second.write_text("rtl/top.sv", "new top")
    second.commit()

    assert (tmp_path / "rtl" / "top.sv").read_text() == "new top"
    assert not (tmp_path / "rtl" / "old_engine.sv").exists()
    assert (tmp_path / "notes.txt").read_text() == "mine"
    assert (tmp_path / "rtl" / "my_constraints.xdc").read_text() == "mine too"
    assert json.loads((tmp_path / MANIFEST).read_text())["files"] == ["rtl/top.sv"]


def test_stale_work_dir_and_empty_folders_are_removed(tmp_path):
    first = OutputDir(tmp_path)
    (first.work_dir("verify/sim_build") / "obj").write_text("x")
    first.write_text("verify/rtl.npy", "x")
    first.commit()
    second = OutputDir(tmp_path)
    second.write_text("report.json", "{}")
    second.commit()
    assert not (tmp_path / "verify").exists()


def test_out_that_is_a_file_is_refused(tmp_path):
    target = tmp_path / "model.onnx"
    target.write_text("x")
    with pytest.raises(UserError, match="is a file"):
        OutputDir(target)


@pytest.mark.parametrize("bad", ["../escape.sv", "/etc/passwd", "a/../../b", MANIFEST])
def test_paths_outside_the_folder_are_refused(tmp_path, bad):
    with pytest.raises(ValueError):
        OutputDir(tmp_path / "out").write_text(bad, "x")
    assert not (tmp_path / "escape.sv").exists()
