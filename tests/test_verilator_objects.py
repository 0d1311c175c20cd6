"""Shared Verilator runtime objects: reused only for the same compiler command and source."""

from __future__ import annotations

from pathlib import Path

from fpgaflow.hw.verilator_objects import keep, main, restore

MAKEFILE = """verilated.o: {source}
\tc++ {flag} -c -o verilated.o {source}
model.o: {source}
\tc++ -c -o model.o {source}
"""


def _build_dir(root: Path, flag: str, source: Path) -> Path:
    root.mkdir()
    (root / "Vtop.mk").write_text(MAKEFILE.format(flag=flag, source=source))
    return root


def test_an_object_is_reused_only_for_the_same_command_and_source(tmp_path):
    source = tmp_path / "verilated.cpp"
    source.write_text("int a;\n")
    cache = tmp_path / "cache"
    first = _build_dir(tmp_path / "first", "-DX=1", source)
    assert restore(first, cache, []) == 0
    (first / "verilated.o").write_bytes(b"object one")
    (first / "model.o").write_bytes(b"the model's own")
    assert keep(first, cache, []) == 1  # the model's object is never shared
    assert keep(first, cache, []) == 0
    second = _build_dir(tmp_path / "second", "-DX=1", source)
    assert restore(second, cache, []) == 1
    assert (second / "verilated.o").read_bytes() == b"object one"
    assert not (second / "model.o").exists()
    other_flags = _build_dir(tmp_path / "other_flags", "-DX=2", source)
    assert restore(other_flags, cache, []) == 0
    source.write_text("int b;\n")
    same_flags_new_source = _build_dir(tmp_path / "new_source", "-DX=1", source)
    assert restore(same_flags_new_source, cache, []) == 0


def test_the_command_line_refuses_an_unknown_step(capsys):
    assert main(["clean", "a", "b"]) == 2
    assert "usage" in capsys.readouterr().err
