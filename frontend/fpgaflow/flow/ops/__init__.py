"""One hardware contract per op kind (fpgaflow.flow.contract), and the lookup of a layer's."""

from __future__ import annotations

from fpgaflow.errors import UserError
from fpgaflow.flow.contract import OpContract
from fpgaflow.flow.layer_plan import LayerPlan
from fpgaflow.flow.ops.pixel_stream import PassThrough, PixelRate, Rewire
from fpgaflow.flow.ops.sparse_engine import SparseConvTranspose, SparseDense, SparseEngine
from fpgaflow.flow.ops.window_pool import GlobalPool, WindowPool

CONTRACTS: dict[str, OpContract] = {
    op: contract
    for contract in (SparseEngine(), SparseDense(), SparseConvTranspose(), WindowPool(), GlobalPool(), PixelRate(),
                     Rewire(), PassThrough())
    for op in contract.ops
}
"""Op name -> its contract, for every op fpgaflow's hardware implements."""

PASS_THROUGH_OPS = PassThrough.ops
"""Ops that only re-interpret the stream; a back end gives them no stage."""


def contract_of(plan: LayerPlan) -> OpContract:
    """The contract of a layer's op; UserError naming the supported ops when there is none."""
    if plan.op not in CONTRACTS:
        raise UserError(f"layer {plan.name} ({plan.op}) has no RTL engine; the RTL generator supports {', '.join(sorted(CONTRACTS))}")
    return CONTRACTS[plan.op]
