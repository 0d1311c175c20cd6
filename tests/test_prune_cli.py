"""`fpgaflow prune`: a run writes ONNX and one summary line; bad input is one line and exit code 2."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
import torch
from fpgaflow.cli.main import main
from fpgaflow.prune.load import load_graph
from fpgaflow.prune.torch_graph import graph_to_torch
from models import digits_cnn, mlp, unet, unet_transposed
from prune_helpers import digits_subset


@pytest.fixture()
def files(tmp_path):
    onnx.save(digits_cnn(), tmp_path / "model.onnx")
    data = digits_subset(64)
    np.savez(tmp_path / "train.npz", x=data.x, y=data.y)
    return tmp_path


def _args(files, *extra: str) -> list[str]:
    base = ["prune", str(files / "model.onnx"), "--method", "l1-filter", "--target", "0.5", "--data", str(files / "train.npz"), "--epochs", "1", "--out", str(files / "out.onnx")]
    return base + list(extra)


def test_run_writes_onnx_and_reports(files, capsys) -> None:
    assert main(_args(files)) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert line.startswith("l1-filter: accuracy") and "conv MACs" in line and "->" in line
    assert (files / "out.onnx").is_file()


def test_taper_reports_hardware_cost(files, capsys) -> None:
    assert main(_args(files, "--method", "taper", "--option", "cost=cycles", "--option", "parallelism=4")) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert line.startswith("taper: accuracy") and "cycles/frame at P=4" in line


def test_importance_says_it_stopped_before_the_target(files, capsys) -> None:
    assert main(_args(files, "--method", "importance", "--option", "tolerance=0")) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert "stopped before the target 0.5: the tolerance was reached" in line
    assert "loosen it, e.g. --option tolerance=" in line


def test_pt_state_dict_with_arch(files, capsys) -> None:
    model = graph_to_torch(load_graph(files / "model.onnx"))
    torch.save(model.state_dict(), files / "weights.pt")
    args = _args(files, "--arch", str(files / "model.onnx"))
    args[1] = str(files / "weights.pt")
    assert main(args) == 0


@pytest.mark.parametrize(
    "change,message",
    [
        (("--target", "1.2"), "outside (0, 1)"),
        (("--method", "nonsense"), "unknown pruning method"),
        (("--granularity", "rows", "--method", "structured"), "unknown granularity"),
        (("--option", "colour=red"), "has no option 'colour'"),
        (("--method", "taper", "--option", "cost"), "is not KEY=VALUE"),
        (("--method", "taper", "--option", "cost=area"), "unknown cost"),
        (("--method", "taper", "--option", "cost=cycles", "--option", "parallelism=0"), "at least 1"),
    ],
)
def test_bad_options(files, capsys, change, message) -> None:
    assert main(_args(files, *change)) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_data_of_wrong_shape(files, capsys) -> None:
    np.savez(files / "bad.npz", x=np.zeros((4, 1, 7, 7), np.float32), y=np.zeros(4, np.int64))
    assert main(_args(files, "--data", str(files / "bad.npz"))) == 2
    assert "expects (N, 1, 8, 8)" in capsys.readouterr().err


def test_labels_out_of_range(files, capsys) -> None:
    np.savez(files / "bad.npz", x=np.zeros((4, 1, 8, 8), np.float32), y=np.array([0, 1, 2, 10]))
    assert main(_args(files, "--data", str(files / "bad.npz"))) == 2
    assert "labels range 0..10" in capsys.readouterr().err


@pytest.mark.parametrize("builder", [unet, unet_transposed])
def test_dense_prediction_model_is_refused_in_one_line(builder, files, capsys) -> None:
    """A U-Net converts to torch (test_prune_torch_graph) but its output is a map, not the class vector prune trains on."""
    onnx.save(builder(), files / "unet.onnx")
    np.savez(files / "maps.npz", x=np.zeros((4, 1, 32, 32), np.float32), y=np.zeros(4, np.int64))
    args = _args(files, "--data", str(files / "maps.npz"))
    args[1] = str(files / "unet.onnx")
    assert main(args) == 2
    error = capsys.readouterr().err.strip()
    assert "\n" not in error and "2x32x32 map" in error and "class vector" in error


def test_model_without_convolutions(files, capsys) -> None:
    onnx.save(mlp(), files / "mlp.onnx")
    np.savez(files / "vectors.npz", x=np.zeros((4, 16), np.float32), y=np.zeros(4, np.int64))
    args = _args(files, "--data", str(files / "vectors.npz"))
    args[1] = str(files / "mlp.onnx")
    assert main(args) == 2
    assert "no convolution layers" in capsys.readouterr().err


def test_pt_without_arch_and_unsafe_pickle(files, capsys) -> None:
    torch.save({"w": torch.zeros(1)}, files / "weights.pt")
    args = _args(files)
    args[1] = str(files / "weights.pt")
    assert main(args) == 2
    assert "--arch" in capsys.readouterr().err
    torch.save({"not": object()}, files / "unsafe.pt")
    args[1] = str(files / "unsafe.pt")
    assert main(args + ["--arch", str(files / "model.onnx")]) == 2
    assert "weights_only=True" in capsys.readouterr().err
