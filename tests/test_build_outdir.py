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


def test_non_empty_folder_that_is_not_a_build_is_refused(tmp_path):
    (tmp_path / "rtl").mkdir()
    (tmp_path / "rtl" / "pool_max.sv").write_text("hand-written")
    with pytest.raises(UserError, match="not an fpgaflow build folder.*--force"):
        OutputDir(tmp_path)
    assert (tmp_path / "rtl" / "pool_max.sv").read_text() == "hand-written"


def test_force_never_overwrites_or_deletes_a_foreign_file(tmp_path):
    (tmp_path / "rtl").mkdir()
    (tmp_path / "rtl" / "pool_max.sv").write_text("hand-written")
    out = OutputDir(tmp_path, force=True)
    out.write_text("rtl/top.sv", "generated")
    with pytest.raises(UserError, match="did not write"):
        out.write_text("rtl/pool_max.sv", "generated")
    out.commit()
    assert (tmp_path / "rtl" / "pool_max.sv").read_text() == "hand-written"
    assert (tmp_path / "rtl" / "top.sv").read_text() == "generated"
    again = OutputDir(tmp_path)
    again.write_text("report.json", "{}")
    again.commit()
    assert (tmp_path / "rtl" / "pool_max.sv").read_text() == "hand-written"
    assert not (tmp_path / "rtl" / "top.sv").exists()


def test_rebuild_keeps_a_foreign_folder_and_files_it_never_wrote(tmp_path):
    first = OutputDir(tmp_path)
    first.write_text("rtl/top.sv", "old")
    first.work_dir("verify/sim")
    first.commit()
    (tmp_path / "vivado" / "run").mkdir(parents=True)
    (tmp_path / "vivado" / "run" / "top.dcp").write_text("user's run")
    (tmp_path / "verify" / "notes.txt").write_text("mine")
    second = OutputDir(tmp_path)
    second.write_text("rtl/top.sv", "new")
    second.commit()
    assert (tmp_path / "vivado" / "run" / "top.dcp").read_text() == "user's run"
    assert (tmp_path / "verify" / "notes.txt").read_text() == "mine"
    assert (tmp_path / "rtl" / "top.sv").read_text() == "new"


def test_interrupted_build_leaves_the_previous_build_and_no_complete_marker(tmp_path):
    first = OutputDir(tmp_path / "fresh")
    first.write_text("report.json", "{}")
    first.discard()  # an exception before commit: nothing of this run reaches the folder
    assert not (tmp_path / "fresh").exists()

    done = OutputDir(tmp_path / "b")
    done.write_text("report.json", "old")
    done.commit()
    broken = OutputDir(tmp_path / "b")
    broken.write_text("report.json", "new")
    broken.write_text("rtl/top.sv", "new")
    # killed without cleanup: the staging folder stays, the previous build is untouched
    assert (tmp_path / "b" / "report.json").read_text() == "old"
    assert not (tmp_path / "b" / "rtl").exists()
    rerun = OutputDir(tmp_path / "b")
    rerun.write_text("report.json", "newer")
    rerun.commit()
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == [MANIFEST, "report.json"]
    assert json.loads((tmp_path / "b" / MANIFEST).read_text())["complete"] is True


def test_verify_refuses_an_incomplete_build(tmp_path):
    (tmp_path / MANIFEST).write_text(json.dumps({"complete": False, "files": ["report.json"], "dirs": []}))
    with pytest.raises(UserError, match="did not finish"):
        OutputDir(tmp_path, existing_build=True)
    with pytest.raises(UserError, match="not an fpgaflow build folder"):
        OutputDir(tmp_path / "nothing", existing_build=True)


def test_links_are_never_followed_out_of_the_folder(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "top.sv").write_text("precious")
    build = tmp_path / "build"
    first = OutputDir(build)
    first.write_text("rtl/top.sv", "generated")
    first.write_text("report.json", "{}")
    first.commit()
    (build / "rtl" / "top.sv").unlink()
    (build / "rtl").rmdir()
    (build / "rtl").symlink_to(outside)
    (build / "report.json").unlink()
    (build / "report.json").symlink_to(outside / "top.sv")
    second = OutputDir(build)
    with pytest.raises(UserError, match="link"):
        second.write_text("rtl/top.sv", "again")
    with pytest.raises(UserError, match="link"):
        second.write_text("report.json", "{}")
    third = OutputDir(build)
    third.write_text("other.txt", "x")
    third.commit()  # deletes stale rtl/top.sv and report.json, but never through a link
    assert (outside / "top.sv").read_text() == "precious"
    assert (build / "report.json").is_symlink()


def test_a_work_folder_is_reused_and_returned_when_a_run_fails(tmp_path):
    first = OutputDir(tmp_path)
    (first.work_dir("verify/sim") / "obj.o").write_text("compiled")
    first.commit()
    failed = OutputDir(tmp_path)
    assert (failed.work_dir("verify/sim") / "obj.o").read_text() == "compiled"
    failed.discard()
    assert (tmp_path / "verify" / "sim" / "obj.o").read_text() == "compiled"
    again = OutputDir(tmp_path)
    assert (again.work_dir("verify/sim") / "obj.o").read_text() == "compiled"
    again.commit()
    assert (tmp_path / "verify" / "sim" / "obj.o").read_text() == "compiled"
