"""Board lookup: by name and alias, the facts of the PYNQ-Z2 file, and the error for an unknown board."""

import pytest

from fpgaflow.boards import RESOURCE_KINDS, known_boards, load_board
from fpgaflow.errors import UserError


def test_pynq_alias_and_name_give_the_same_board():
    assert load_board("pynq") == load_board("pynq-z2") == load_board("PYNQ-Z2")


def test_pynq_z2_facts():
    board = load_board("pynq")
    assert board.part == "xc7z020clg400-1"
    assert board.dma_data_width == 64
    assert board.clock_mhz > 0
    assert board.resources == {"lut": 53200, "ff": 106400, "bram18": 280, "dsp": 220}


def test_every_shipped_board_lists_every_resource():
    for board in known_boards():
        assert sorted(board.resources) == sorted(RESOURCE_KINDS)


def test_unknown_board_lists_the_known_ones():
    with pytest.raises(UserError) as info:
        load_board("zedboard-x")
    message = str(info.value)
    assert "zedboard-x" in message and "pynq-z2" in message and "\n" not in message


@pytest.mark.parametrize(
    ("name", "part", "resources", "uram"),
    [
        ("ultra96-v2", "xczu3eg-sbva484-1-i", {"lut": 70560, "ff": 141120, "bram18": 432, "dsp": 360}, 0),
        ("zcu104", "xczu7ev-ffvc1156-2-e", {"lut": 230400, "ff": 460800, "bram18": 624, "dsp": 1728}, 96),
        ("kv260", "xck26-sfvc784-2LV-c", {"lut": 117120, "ff": 234240, "bram18": 288, "dsp": 1248}, 64),
    ],
)
def test_ultrascale_plus_board_facts(name, part, resources, uram):
    board = load_board(name)
    assert (board.part, board.resources, board.uram, board.family) == (part, resources, uram, "zynquplus")


def test_family_decides_processing_system_and_dma_width():
    """Zynq-7000 HP ports are 64 bits, Zynq UltraScale+ HP ports 128; each family has its own PS IP."""
    expected = {"zynq7": ("processing_system7", 64, "S_AXI_HP0"), "zynquplus": ("zynq_ultra_ps_e", 128, "S_AXI_HP0_FPD")}
    boards = known_boards()
    assert {b.name for b in boards} >= {"pynq-z2", "ultra96-v2", "zcu104", "kv260"}
    for board in boards:
        assert board.vivado is not None and board.board_part
        assert (board.vivado.ps_ip, board.dma_data_width, board.vivado.data_port) == expected[board.family]


def test_boards_command_lists_every_board_with_resources(capsys):
    from fpgaflow.cli import main

    assert main(["boards"]) == 0
    text = capsys.readouterr().out
    for board in known_boards():
        assert board.name in text and board.part in text and str(board.resources["lut"]) in text
    assert "URAM" in text and "96" in text


def test_unknown_board_message_lists_parts_and_resources():
    with pytest.raises(UserError) as info:
        load_board("zedboard-x")
    message = str(info.value)
    assert "xczu7ev-ffvc1156-2-e" in message and "1728 DSP" in message and "fpgaflow boards" in message
