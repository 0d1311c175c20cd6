"""Cycle and resource estimates of the generated HLS design, next to the RTL's in report.json.

A conv or dense function (a ConvTranspose2d's 1x1 conv included) keeps the sparse engine's op
contract (fpgaflow.flow.ops.sparse_engine), so its cycles and weight-memory bits are the
contract's, not a formula of their own: the kernel reads the very ROM image the contract
packs (one word a cycle at II = 1, DEPTH cycles a window), its window writer fills one of
two window banks WR_N elements a cycle while the MAC loop reads the other, and a conv's
writer is the line-buffer walk of one padded pixel a cycle that waits while both banks are
full: the schedule fpgaflow.flow.cycles.engine_frame_cycles models for the RTL engine
(hls_templates/fpgaflow_kernels.h, "the sparse engine"). The other functions are estimated
from their loop structure with the RTL's cycle functions where they share them
(window_gen_cycles); they move one pixel a cycle. These are estimates until Vitis HLS's
synthesis report confirms them: no vendor tool has checked them (report.json says so in `status`).
"""

from __future__ import annotations

from typing import Any

from fpgaflow.flow.cycles import window_gen_cycles
from fpgaflow.flow.ops import contract_of
from fpgaflow.flow.resources import bram18_count
from fpgaflow.backends.hls.layers import HlsLayer

STATUS = ("estimates: conv and dense from the sparse engine's op contract, the other functions from the kernels' loop "
          "structure; not confirmed by a vendor HLS tool")

ENGINE_KINDS = ("conv", "dense")


def layer_cycles(layer: HlsLayer) -> int:
    """Cycles per frame of one layer function."""
    k = layer.consts
    if layer.kind in ENGINE_KINDS:
        assert layer.plan is not None
        return contract_of(layer.plan).cycles(layer.plan, layer.lanes, layer.store_zeros)
    if layer.kind in ("max_pool", "avg_pool"):
        return window_gen_cycles(k["PH"], k["PW"], (0, 0, 0, 0)) + k["OH"] * k["OW"] * k["C"] * k["KH"] * k["KW"]
    if layer.kind == "scale_shift":
        return k["PIXELS"] * k["C"]
    if layer.kind == "global_avg_pool":
        return k["PIXELS"] + k["C"]
    if layer.kind == "upsample":
        return k["H"] * k["W"] * (1 + k["SH"] * k["SW"])
    if layer.kind == "depth_to_space":
        return k["H"] * k["W"] * (1 + k["BH"] * k["BW"])
    if layer.kind == "pad":
        return k["PH"] * k["PW"]
    return k["PIXELS"]


def _rom_resources(layer: HlsLayer) -> dict[str, int]:
    """Bits of the layer's constant arrays and the block RAMs (18 Kb) their banks take.

    A conv or dense layer's bits are its weight memory as the contract counts it (ROM words and
    pattern table, the RTL's); its pattern and channel tables and constant codes are registers.
    """
    bits = bram = 0
    for array in layer.arrays:
        if not array.rom:
            continue
        bits += array.bits
        if not array.in_lutram:
            bram += bram18_count(*array.memory_shape)
    if layer.kind in ENGINE_KINDS:
        assert layer.plan is not None
        bits = contract_of(layer.plan).weight_bits(layer.plan, layer.lanes, layer.store_zeros)[1]
    return {"rom_bits": bits, "bram18": bram}


def hls_estimate(layers: list[HlsLayer], rtl_report: dict[str, Any], clock_mhz: float) -> dict[str, Any]:
    """report.json's `hls` entry: per function and in total, with the RTL's modelled cycles beside them."""
    rtl_cycles = {entry["name"]: entry.get("cycles_model") for entry in rtl_report.get("layers", [])}
    entries = []
    for layer in layers:
        dsp = layer.consts.get("P", 0) if layer.kind in ("conv", "dense") else 0
        entries.append({"function": f"{layer.name}_layer", "layer": layer.layer_name, "kind": layer.kind,
                        "parallelism": layer.lanes, "cycles_estimate": layer_cycles(layer),
                        "rtl_cycles_model": rtl_cycles.get(layer.layer_name), "dsp": dsp, **_rom_resources(layer)})
    interval = max((e["cycles_estimate"] for e in entries), default=0)
    return {
        "status": STATUS,
        "layers": entries,
        "totals": {
            "cycles_per_frame": interval,
            "frames_per_second": clock_mhz * 1e6 / interval if interval else 0.0,
            "rtl_cycles_per_frame": rtl_report.get("totals", {}).get("cycles_per_frame"),
            "dsp": sum(e["dsp"] for e in entries),
            "rom_bits": sum(e["rom_bits"] for e in entries),
            "bram18": sum(e["bram18"] for e in entries),
        },
    }
