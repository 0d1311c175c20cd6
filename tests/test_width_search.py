"""The word-length search (fpgaflow.wordlength.search) and `fpgaflow quantize`."""

import numpy as np
import pytest
import yaml

from fpgaflow.api import load_model
from fpgaflow.boards import load_board
from fpgaflow.cli.main import main
from fpgaflow.cli.quantize_cmd import held_out, held_out_split
from fpgaflow.prune.train import Split
from fpgaflow.quant import quantize
from fpgaflow.wordlength.hardware_cost import WeightBitsCost, design_figures
from fpgaflow.wordlength.search import fixed_accuracy, search_widths
from fpgaflow.quant.widths import read_widths_config

MODEL = "examples/digits_cnn.onnx"
TRAIN = np.load("examples/digits_train.npz")
TEST = np.load("examples/digits_test.npz")
CALIB = TRAIN["x"][:300]
VAL_X, VAL_Y = TEST["x"][:120], TEST["y"][:120]
BITS = 5


@pytest.fixture(scope="module")
def searched():
    graph = load_model(MODEL)
    start = quantize(graph, CALIB, BITS)
    figures = design_figures(start, load_board("pynq"))
    return graph, figures, search_widths(graph, CALIB, VAL_X, VAL_Y, 1.0, load_board("pynq"), bits=BITS)


def test_search_stays_within_the_tolerance_and_saves_weight_bits(searched):
    graph, figures, result = searched
    final = quantize(graph, CALIB, BITS, result.widths)
    accuracy = fixed_accuracy(final, VAL_X, VAL_Y)
    assert accuracy == result.accuracy and accuracy >= result.accuracy_float - 1.0
    assert result.steps and result.weight_bits < result.weight_bits_start
    # the search's figure is the generator's, at the P the balanced start design chose
    assert result.weight_bits == WeightBitsCost(figures.lanes)(final)
    assert result.weight_bits_start == figures.weight_bits
    costs = [cost for _, _, _, cost in result.steps]
    assert costs == sorted(costs, reverse=True)
    assert all(acc >= result.accuracy_float - 1.0 for _, _, acc, _ in result.steps)
    assert all(2 <= w <= BITS for widths in result.widths.values() for w in widths.to_dict().values())


def test_a_tighter_tolerance_keeps_more_bits(searched):
    graph, _, loose = searched
    tight = search_widths(graph, CALIB, VAL_X, VAL_Y, 0.0, load_board("pynq"), bits=BITS)
    assert tight.accuracy >= tight.accuracy_float
    assert tight.weight_bits >= loose.weight_bits


def test_quantize_cli_writes_a_config_build_reads_and_is_deterministic(tmp_path, capsys):
    train = tmp_path / "train.npz"
    np.savez(train, x=CALIB, y=TRAIN["y"][:300])
    val = tmp_path / "val.npz"
    np.savez(val, x=VAL_X, y=VAL_Y)
    outs = [tmp_path / "a.yaml", tmp_path / "b.yaml"]
    for out in outs:
        assert main(["quantize", MODEL, "--data", str(train), "--val", str(val), "--tolerance", "1", "--bits", "5",
                     "--cost", "cycles", "--out", str(out)]) == 0
    assert outs[0].read_bytes() == outs[1].read_bytes()
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("accuracy ") and "weight bits " in last and "widths " in last
    config = read_widths_config(outs[0])
    assert config and set(yaml.safe_load(outs[0].read_text())["layers"]) == set(config)
    assert main(["quantize", MODEL, "--data", str(train), "--tolerance", "1", "--out", str(outs[0])]) == 2
    assert "exists" in capsys.readouterr().err
    assert main(["quantize", MODEL, "--data", str(train), "--val", str(val), "--tolerance", "1", "--bits", "3",
                 "--out", str(tmp_path / "c.yaml")]) == 2
    assert "start wider (--bits)" in capsys.readouterr().err and not (tmp_path / "c.yaml").exists()


@pytest.mark.parametrize("args, message", [
    (["--cost", "area"], "--cost area is not one of"),
    (["--out", "q.txt"], "must end in .yaml"),
    (["--tolerance", "-1"], "must be >= 0"),
    (["--bits", "20"], "start width 20"),
])
def test_quantize_cli_refuses_bad_options(tmp_path, capsys, args, message):
    base = {"--tolerance": "1", "--out": str(tmp_path / "q.yaml")}
    pairs = dict(zip(args[::2], args[1::2]))
    options = [item for key, value in {**base, **pairs}.items() for item in (key, value)]
    assert main(["quantize", MODEL, "--data", "examples/digits_train.npz", *options]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and message in error[0], error


def test_held_out_split_parts_partition_the_data_deterministically():
    data = Split(np.arange(40, dtype=np.float32).reshape(10, 1, 2, 2), np.arange(10))
    held, rest = held_out_split(data, 0.3, 7)
    assert len(held.y) == 3 and len(rest.y) == 7
    assert sorted(held.y.tolist() + rest.y.tolist()) == list(range(10))
    assert held.y.tolist() == sorted(held.y.tolist()) and rest.y.tolist() == sorted(rest.y.tolist())
    assert np.array_equal(held.x[:, 0, 0, 0], 4 * held.y)
    assert np.array_equal(held.y, held_out(data, 0.3, 7).y)
    again = held_out_split(data, 0.3, 7)
    assert np.array_equal(again[0].y, held.y) and np.array_equal(again[1].y, rest.y)
    assert not np.array_equal(held_out_split(data, 0.3, 8)[0].y, held.y)
