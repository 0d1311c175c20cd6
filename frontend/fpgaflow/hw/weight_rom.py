"""Pack a quantized Conv2d or Dense layer into the memories of rtl/sparse_conv_engine.sv.

The weight ROM lists only the nonzero weights, output channel after output channel, P
entries per word and packed across channel boundaries (an end-of-channel flag closes a
channel), so a window costs ceil(nnz / P) cycles instead of the sum over channels of
ceil(nnz_oc / P). An entry is {end_of_channel, window index, weight code}. The window
index says which element of the window beat the weight multiplies; it also absorbs every
reordering between the IR's weight layout and the stream order (groups, and the C-major
flatten before a dense layer against the pixel-major stream). Output is deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fpgaflow.errors import UserError
from fpgaflow.fixed import FixedType, relu6_ceiling
from fpgaflow.ir.layers import Activation, Conv2d, Dense
from fpgaflow.reference.fixed_exec import finish

ACTIVATION_CODES = {Activation.NONE: 0, Activation.RELU: 1, Activation.RELU6: 2}


def _bits(count: int) -> int:
    """Bits to number `count` things (at least 1)."""
    return max(1, (max(count, 1) - 1).bit_length())


@dataclass(frozen=True)
class EngineImage:
    """Memory contents and parameters of one sparse_conv_engine instance."""

    weight_words: list[int]
    channel_words: list[int]
    const_codes: list[int]
    entries_per_channel: list[int]
    parameters: dict[str, int]

    @property
    def depth(self) -> int:
        return len(self.weight_words)

    @property
    def word_bits(self) -> int:
        p = self.parameters
        return p["P"] * (p["WW"] + p["IDX_W"] + 1)

    @property
    def weight_memory_bits(self) -> int:
        """Bits of weight ROM (the figure the report compares across densities)."""
        return self.depth * self.word_bits

    def write(self, folder: Path, prefix: str) -> dict[str, str]:
        """Write the three .mem files into `folder`; returns the file-name parameters.

        The names are relative to `folder` ($readmemh resolves them against the working
        directory of the simulation or synthesis run).
        """
        p = self.parameters
        files = {
            "WEIGHT_FILE": (self.weight_words, self.word_bits),
            "CHAN_FILE": (self.channel_words, p["OC_W"] + p["ACC_W"]),
            "CONST_FILE": (self.const_codes, p["OUT_W"]),
        }
        names: dict[str, str] = {}
        for key, (words, bits) in files.items():
            name = f"{prefix}_{key.split('_')[0].lower()}.mem"
            (folder / name).write_text(mem_text(words, bits))
            names[key] = name
        return names


def _worst_case_bits(codes: np.ndarray, bias: np.ndarray, in_type: FixedType) -> int:
    """Signed bits that hold any channel's sum of products plus bias for any input.

    The hardware accumulator must never wrap where the int64 reference does not, whatever
    accumulator width the quantizer chose.
    """
    largest_input = max(abs(in_type.min_code), abs(in_type.max_code))
    worst = np.abs(codes).sum(axis=1) * largest_input + np.abs(bias)
    return int(worst.max(initial=0)).bit_length() + 1


def mem_text(words: list[int], bits: int) -> str:
    """$readmemh text: one fixed-width hex word per line, no comments, no timestamps."""
    digits = max(1, -(-bits // 4))
    mask = (1 << bits) - 1
    return "".join(f"{word & mask:0{digits}x}\n" for word in words)


def conv_window_index(layer: Conv2d, in_channels: int) -> np.ndarray:
    """Window index of every weight (O, I/g, KH, KW): (kh * KW + kw) * C_in + input channel."""
    out_ch, per_group, kh, kw = layer.weight.codes.shape  # type: ignore[union-attr]
    group = np.arange(out_ch) // (out_ch // layer.groups)
    channel = group[:, None] * per_group + np.arange(per_group)[None, :]
    position = np.arange(kh)[:, None] * kw + np.arange(kw)[None, :]
    return position[None, None, :, :] * in_channels + channel[:, :, None, None]


def dense_window_index(in_shape: tuple[int, ...], out_channels: int) -> np.ndarray:
    """Index into the collected vector beat of each weight (O, I).

    ONNX flattens (C, H, W) C-major (i = c*H*W + p) while pixels stream pixel-major
    (element p*C + c), so the index maps one order onto the other.
    """
    if len(in_shape) == 3:
        channels, height, width = in_shape
        flat = np.arange(channels * height * width)
        c, pixel = flat // (height * width), flat % (height * width)
        order = pixel * channels + c
    else:
        order = np.arange(int(np.prod(in_shape)))
    return np.broadcast_to(order, (out_channels, order.size))


def pack_engine(
    layer: Conv2d | Dense,
    in_type: FixedType,
    out_type: FixedType,
    in_shape: tuple[int, ...],
    lanes: int,
    keep_zeros: bool = False,
) -> EngineImage:
    """ROM, channel table and constant codes of a quantized conv or dense layer.

    in_shape is the layer's per-sample input shape; keep_zeros stores every weight (the
    dense-weights baseline), otherwise only the nonzero ones.
    """
    weight = layer.weight
    if weight.codes is None or weight.ftype is None or layer.acc is None:
        raise UserError(f"layer {layer.name!r} is not quantized; run quantize before generating hardware")
    if lanes < 1:
        raise UserError(f"P (lanes) must be at least 1, got {lanes}")
    codes = np.asarray(weight.codes, dtype=np.int64)
    out_channels = codes.shape[0]
    if isinstance(layer, Conv2d):
        index = conv_window_index(layer, in_shape[0])
        window = in_shape[0] * codes.shape[2] * codes.shape[3]
    else:
        index = dense_window_index(in_shape, out_channels)
        window = int(np.prod(in_shape))
    codes2 = codes.reshape(out_channels, -1)
    index2 = np.asarray(index).reshape(out_channels, -1)
    bias = np.zeros(out_channels, dtype=np.int64) if layer.bias is None else np.asarray(layer.bias.codes, dtype=np.int64)

    weight_bits = weight.ftype.width + (0 if weight.ftype.signed else 1)
    index_bits = _bits(window)
    oc_bits = _bits(out_channels)
    acc_bits = max(layer.acc.width, _worst_case_bits(codes2, bias, in_type))
    entry_bits = weight_bits + index_bits + 1

    entries: list[int] = []
    channels: list[int] = []
    counts: list[int] = []
    for oc in range(out_channels):
        keep = np.ones(codes2.shape[1], bool) if keep_zeros else codes2[oc] != 0
        run = [(int(i), int(w)) for i, w in zip(index2[oc][keep], codes2[oc][keep])]
        counts.append(len(run))
        if not run:
            continue
        for position, (i, w) in enumerate(run):
            end = 1 if position == len(run) - 1 else 0
            entries.append((end << (weight_bits + index_bits)) | (i << weight_bits) | (w & ((1 << weight_bits) - 1)))
        channels.append((oc << acc_bits) | (int(bias[oc]) & ((1 << acc_bits) - 1)))
    words = [0] * max(1, -(-len(entries) // lanes))
    for n, entry in enumerate(entries):
        words[n // lanes] |= entry << ((n % lanes) * entry_bits)
    const = finish(bias, layer.acc.frac, out_type, layer.activation)
    parameters = {
        "WIN_N": window,
        "IN_W": in_type.width,
        "IN_SIGNED": int(in_type.signed),
        "C_OUT": out_channels,
        "OUT_W": out_type.width,
        "OUT_SIGNED": int(out_type.signed),
        "WW": weight_bits,
        "IDX_W": index_bits,
        "P": lanes,
        "ACC_W": acc_bits,
        "SHIFT": layer.acc.frac - out_type.frac,
        "ACT": ACTIVATION_CODES[layer.activation],
        "RELU6_MAX": relu6_ceiling(out_type) if layer.activation is Activation.RELU6 else 0,
        "DEPTH": len(words),
        "NZ_OC": max(1, len(channels)),
        "OC_W": oc_bits,
    }
    return EngineImage(
        weight_words=words,
        channel_words=channels or [0],
        const_codes=[int(c) & ((1 << out_type.width) - 1) for c in const],
        entries_per_channel=counts,
        parameters=parameters,
    )
