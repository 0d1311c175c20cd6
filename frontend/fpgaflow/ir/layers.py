"""The typed layers of the IR.

Each layer is a dataclass naming its input tensors, its one output tensor, its
attributes and its weights. Shapes live on the tensors (see graph.py), formats too;
a layer only carries what is its own: weights, geometry, activation, and the formats of
its internal arithmetic (accumulator, reciprocal) once quantized.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import ClassVar

import numpy as np

from fpgaflow.fixed import FixedType
from fpgaflow.ir.sparsity import SparsityRecord


class Activation(str, Enum):
    """An activation fused into the layer that precedes it."""

    NONE = "none"
    RELU = "relu"
    RELU6 = "relu6"
    LEAKY = "leaky"


@dataclass(kw_only=True)
class Weight:
    """A constant tensor: float originals, and once quantized its format and integer codes."""

    values: np.ndarray
    ftype: FixedType | None = None
    codes: np.ndarray | None = None
    sparsity: SparsityRecord | None = None
    channel_frac: np.ndarray | None = None
    """Fractional bits of each output channel's codes (axis 0) when the channels have their own
    formats (docs/fixed-point.md, per-channel weight formats); ftype.frac is then the smallest."""
    given: FixedType | None = None
    """The format the model file fixes for these values (a QONNX Quant node on the constant):
    quantize keeps it for a weight and checks that a bias fits its accumulator exactly."""

    def channel_fracs(self) -> np.ndarray:
        """F of each output channel's codes: channel_frac, or ftype.frac for every channel."""
        if self.channel_frac is not None:
            return np.asarray(self.channel_frac, dtype=np.int64)
        assert self.ftype is not None, "the weight is not quantized"
        return np.full(np.shape(self.values)[0], self.ftype.frac, dtype=np.int64)

    def acc_fracs(self, acc_frac: int) -> np.ndarray:
        """F_acc of each output channel of a layer whose accumulator format has F = acc_frac."""
        assert self.ftype is not None, "the weight is not quantized"
        return acc_frac + self.channel_fracs() - self.ftype.frac

    def format_text(self) -> str:
        """The format as the reports write it: "s8.5", or "s8.-2..7/ch" with per-channel F (smallest..largest)."""
        assert self.ftype is not None, "the weight is not quantized"
        if self.channel_frac is None:
            return str(self.ftype)
        fracs = self.channel_fracs()
        return f"{'s' if self.ftype.signed else 'u'}{self.ftype.width}.{int(fracs.min())}..{int(fracs.max())}/ch"

    @property
    def mask(self) -> np.ndarray:
        """Where the weight is nonzero (in codes once quantized, else in floats)."""
        return (self.codes if self.codes is not None else self.values) != 0


@dataclass(kw_only=True)
class Layer:
    """Base of every layer: a unique identifier-safe name, inputs and one output tensor."""

    OP: ClassVar[str] = ""
    HARDWARE: ClassVar[bool] = True
    name: str
    inputs: list[str]
    output: str

    def weights(self) -> dict[str, Weight]:
        """The layer's constant tensors by field name."""
        return {k: v for k, v in vars(self).items() if isinstance(v, Weight)}


@dataclass(kw_only=True)
class Activated(Layer):
    """A layer that applies an activation to its result: fused (Conv2d, ConvTranspose2d, Dense, ScaleShift, Add) or a Relu."""

    activation: Activation = Activation.NONE
    alpha: float = 0.0
    """The slope of LeakyRelu for negative values (activation LEAKY only); its fixed-point
    code is fpgaflow.fixed.leaky_slope(alpha), so the IR keeps only the float."""

    @property
    def clamps_negative(self) -> bool:
        """True when the activation makes every output non-negative (ReLU, ReLU6; not LeakyRelu)."""
        return self.activation in (Activation.RELU, Activation.RELU6)


@dataclass(kw_only=True)
class Conv2d(Activated):
    """2-D convolution, weight (O, I/groups, KH, KW); padding is (top, left, bottom, right)."""

    OP: ClassVar[str] = "Conv2d"
    weight: Weight
    bias: Weight | None = None
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int, int, int] = (0, 0, 0, 0)
    dilation: tuple[int, int] = (1, 1)
    groups: int = 1
    acc: FixedType | None = None

    @property
    def kernel(self) -> tuple[int, int]:
        return int(self.weight.values.shape[2]), int(self.weight.values.shape[3])


@dataclass(kw_only=True)
class ConvTranspose2d(Activated):
    """Transposed convolution whose stride equals its kernel, no padding, groups 1: every input
    pixel writes its own KH x KW block of output pixels. weight (I, O, KH, KW), as ONNX stores it.

    It computes exactly the 1x1 conv with KH*KW*O outputs of fpgaflow.ir.transposed followed by
    a depth-to-space; the accumulator rules are that conv's."""

    OP: ClassVar[str] = "ConvTranspose2d"
    weight: Weight
    bias: Weight | None = None
    acc: FixedType | None = None

    @property
    def block(self) -> tuple[int, int]:
        """(KH, KW): the kernel, which is also the stride and each input pixel's output block."""
        return int(self.weight.values.shape[2]), int(self.weight.values.shape[3])


@dataclass(kw_only=True)
class Dense(Activated):
    """Fully connected layer, weight (O, I), on a flat input vector."""

    OP: ClassVar[str] = "Dense"
    weight: Weight
    bias: Weight | None = None
    acc: FixedType | None = None


@dataclass(kw_only=True)
class ScaleShift(Activated):
    """Per-channel y = scale * x + shift: a BatchNormalization that follows no conv or dense."""

    OP: ClassVar[str] = "ScaleShift"
    scale: Weight
    shift: Weight
    acc: FixedType | None = None


@dataclass(kw_only=True)
class MaxPool(Layer):
    """Max pooling on codes; padding positions never win (they count as -infinity)."""

    OP: ClassVar[str] = "MaxPool"
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int, int, int] = (0, 0, 0, 0)
    dilation: tuple[int, int] = (1, 1)
    ceil_mode: bool = False


@dataclass(kw_only=True)
class AvgPool(Layer):
    """Average pooling. Division by a count that is not a power of two uses `reciprocal`."""

    OP: ClassVar[str] = "AvgPool"
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int, int, int] = (0, 0, 0, 0)
    count_include_pad: bool = False
    ceil_mode: bool = False
    reciprocal: FixedType | None = None


@dataclass(kw_only=True)
class GlobalAvgPool(Layer):
    """Mean over the whole spatial extent, output (C, 1, 1)."""

    OP: ClassVar[str] = "GlobalAvgPool"
    reciprocal: FixedType | None = None


@dataclass(kw_only=True)
class Add(Activated):
    """Element-wise sum of two or more same-shape tensors (residual connections)."""

    OP: ClassVar[str] = "Add"


@dataclass(kw_only=True)
class Concat(Layer):
    """Concatenation along channels."""

    OP: ClassVar[str] = "Concat"


@dataclass(kw_only=True)
class Flatten(Layer):
    """(C, H, W) to a vector in C-major order, as ONNX Flatten and torch.flatten do."""

    OP: ClassVar[str] = "Flatten"


@dataclass(kw_only=True)
class ChannelPermute(Layer):
    """Output channel k is input channel order[k] (a ShuffleNet channel shuffle): codes move, never change."""

    OP: ClassVar[str] = "ChannelPermute"
    order: tuple[int, ...]


@dataclass(kw_only=True)
class Upsample(Layer):
    """Nearest-neighbour upsampling by integer factors (scale_h, scale_w): every pixel repeated,
    every row repeated (ONNX Resize/Upsample in nearest mode). Codes move, never change."""

    OP: ClassVar[str] = "Upsample"
    scale: tuple[int, int]


@dataclass(kw_only=True)
class Softmax(Layer):
    """A final softmax: kept in the float reference, left out of the hardware (argmax is unchanged)."""

    OP: ClassVar[str] = "Softmax"
    HARDWARE: ClassVar[bool] = False


@dataclass(kw_only=True)
class Relu(Activated):
    """A stand-alone activation that a pass could not fuse into a preceding layer."""

    OP: ClassVar[str] = "Relu"
    activation: Activation = Activation.RELU


@dataclass(kw_only=True)
class Pad(Layer):
    """Zero padding (top, left, bottom, right) that a pass folds into the next conv or pool."""

    OP: ClassVar[str] = "Pad"
    padding: tuple[int, int, int, int]


@dataclass(kw_only=True)
class BatchNorm(Layer):
    """Inference batch normalization as imported; passes fold it or turn it into ScaleShift."""

    OP: ClassVar[str] = "BatchNorm"
    scale: Weight
    bias: Weight
    mean: Weight
    var: Weight
    epsilon: float = 1e-5


LAYER_TYPES: dict[str, type[Layer]] = {
    cls.OP: cls
    for cls in (
        Conv2d,
        ConvTranspose2d,
        Dense,
        ScaleShift,
        MaxPool,
        AvgPool,
        GlobalAvgPool,
        Add,
        Concat,
        Flatten,
        ChannelPermute,
        Upsample,
        Softmax,
        Relu,
        Pad,
        BatchNorm,
    )
}
COMPUTE_OPS = ("Conv2d", "Dense")

