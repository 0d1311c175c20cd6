"""Coupled channels: a removed channel takes its residual partner, its Concat slot and its depthwise group along."""

from __future__ import annotations

import torch

from fpgaflow.prune.coupling import channel_units
from fpgaflow.prune.masks import MaskSet
from prune_helpers import BranchyNet


def _unit(units, root: str, channel: int):
    return next(u.unit for u in units if u.root == root and u.channel == channel)


def _pieces(unit) -> set[tuple[str, str]]:
    return {(piece.param, repr(piece.index)) for piece in unit}


def test_residual_add_couples_both_sides_and_all_consumers() -> None:
    units = channel_units(BranchyNet(), torch.zeros(1, 2, 6, 6))
    pieces = _pieces(_unit(units, "left", 1))
    assert ("right.weight", "(1,)") in pieces and ("right.bias", "(1,)") in pieces
    full = repr((slice(None), 1))
    assert ("branch_a.weight", full) in pieces and ("branch_b.weight", full) in pieces


def test_concat_slot_and_depthwise_group_follow_the_offset() -> None:
    model = BranchyNet()
    units = channel_units(model, torch.zeros(1, 2, 6, 6))
    pieces = _pieces(_unit(units, "depthwise", 3))
    assert ("branch_b.weight", "(0,)") in pieces, "Concat slot 3 is branch_b's channel 0"
    assert ("depthwise.weight", "(3,)") in pieces
    assert ("head.weight", repr((slice(None), 3))) in pieces


def test_zeroing_a_coupled_channel_silences_it_everywhere() -> None:
    torch.manual_seed(0)
    model = BranchyNet().eval()
    x = torch.randn(2, 2, 6, 6)
    masks = MaskSet(model)
    masks.zero([_unit(channel_units(model, x), "depthwise", 3)])
    masks.apply()
    captured = {}
    model.depthwise.register_forward_hook(lambda m, i, o: captured.update(inp=i[0], out=o))
    model(x)
    assert not captured["inp"][:, 3].any() and not captured["out"][:, 3].any()
    assert not model.head.weight[:, 3].any()


def test_output_layer_channels_are_never_units() -> None:
    units = channel_units(BranchyNet(), torch.zeros(1, 2, 6, 6))
    assert all(u.root != "head" for u in units)
    assert {u.root for u in units} == {"stem", "left", "depthwise"}
