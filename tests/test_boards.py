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
