"""Small seeded test models, as ONNX ModelProtos and as torch modules, shared by all tests.

Each ONNX builder takes the opset to write (so the importer's attribute-vs-input
differences are exercised) and a seed (so weights are reproducible), and returns a
ModelProto with a dynamic batch axis "N" unless stated otherwise. `ONNX_BUILDERS` lists
every builder with the lowest opset it can be written at; `random_input` makes a
matching seeded input batch. Weights are scaled so activations stay around unit size.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

NEWEST_OPSET = onnx.defs.onnx_opset_version()


@dataclass
class OnnxBuilder:
    """Accumulates nodes and seeded initializers for one ONNX graph at one opset."""

    name: str
    opset: int
    seed: int = 0
    nodes: list[onnx.NodeProto] = field(default_factory=list)
    initializers: list[onnx.TensorProto] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rng = np.random.default_rng(self.seed)

    def constant(self, name: str, values: np.ndarray) -> str:
        self.initializers.append(numpy_helper.from_array(np.asarray(values), name))
        return name

    def weight(self, name: str, shape: Sequence[int]) -> str:
        fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else 1
        values = self.rng.normal(0.0, 1.0 / np.sqrt(fan_in), size=tuple(shape)).astype(np.float32)
        return self.constant(name, values)

    def node(self, op: str, inputs: Sequence[str], name: str, n_outputs: int = 1, **attrs: object) -> str:
        outputs = [f"{name}_out"] + [f"{name}_out{i}" for i in range(1, n_outputs)]
        self.nodes.append(helper.make_node(op, list(inputs), outputs, name=name, **attrs))
        return outputs[0]

    def broadcast_attrs(self) -> dict[str, int]:
        """Opset 6 needs broadcast=1 for a bias added to a batch; later opsets broadcast always."""
        return {"broadcast": 1} if self.opset < 7 else {}

    def conv(self, x: str, name: str, c_in: int, c_out: int, k: int = 3, groups: int = 1, **attrs: object) -> str:
        w = self.weight(f"{name}.weight", (c_out, c_in // groups, k, k))
        b = self.weight(f"{name}.bias", (c_out,))
        return self.node("Conv", [x, w, b], name, kernel_shape=[k, k], group=groups, **attrs)

    def batchnorm(self, x: str, name: str, channels: int) -> str:
        scale = self.constant(f"{name}.scale", self.rng.uniform(0.5, 1.5, channels).astype(np.float32))
        bias = self.constant(f"{name}.bias", self.rng.normal(0, 0.2, channels).astype(np.float32))
        mean = self.constant(f"{name}.mean", self.rng.normal(0, 0.2, channels).astype(np.float32))
        var = self.constant(f"{name}.var", self.rng.uniform(0.5, 1.5, channels).astype(np.float32))
        attrs: dict[str, object] = {"epsilon": 1e-3}
        if self.opset < 7:
            attrs["is_test"] = 1
        return self.node("BatchNormalization", [x, scale, bias, mean, var], name, **attrs)

    def gemm(self, x: str, name: str, f_in: int, f_out: int) -> str:
        w = self.weight(f"{name}.weight", (f_out, f_in))
        b = self.weight(f"{name}.bias", (f_out,))
        return self.node("Gemm", [x, w, b], name, transB=1, **self.broadcast_attrs())

    def clip(self, x: str, name: str, low: float, high: float) -> str:
        if self.opset < 11:
            return self.node("Clip", [x], name, min=low, max=high)
        lo = self.constant(f"{name}.min", np.array(low, np.float32))
        hi = self.constant(f"{name}.max", np.array(high, np.float32))
        return self.node("Clip", [x, lo, hi], name)

    def pad(self, x: str, name: str, pads: Sequence[int]) -> str:
        if self.opset < 11:
            return self.node("Pad", [x], name, pads=list(pads), mode="constant", value=0.0)
        return self.node("Pad", [x, self.constant(f"{name}.pads", np.array(pads, np.int64))], name, mode="constant")

    def model(self, input_shape: Sequence[int | str], output: str, input_name: str = "input") -> onnx.ModelProto:
        graph = helper.make_graph(
            self.nodes,
            self.name,
            [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, list(input_shape))],
            [helper.make_tensor_value_info(output, TensorProto.FLOAT, None)],
            initializer=self.initializers,
        )
        opsets = [helper.make_opsetid("", self.opset)]
        model = helper.make_model(graph, opset_imports=opsets, producer_name="fpgaflow-tests")
        model.ir_version = helper.find_min_ir_version_for(opsets)
        if model.ir_version < 4:  # before IR 4 every initializer is also a graph input
            model.graph.input.extend(
                helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)) for t in self.initializers
            )
        # Graph outputs need a shape: let ONNX's shape inference fill it in.
        inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
        model.graph.output[0].CopyFrom(inferred.graph.output[0])
        onnx.checker.check_model(model)
        return model


def digits_cnn(opset: int = 13, seed: int = 0, batch: int | str = "N") -> onnx.ModelProto:
    """8x8 digits-like CNN: conv3x3(pad 1)-relu, maxpool 2, conv3x3+BN+relu, flatten, dense 10."""
    b = OnnxBuilder("digits_cnn", opset, seed)
    x = b.node("Relu", [b.conv("input", "conv1", 1, 4, pads=[1, 1, 1, 1])], "relu1")
    x = b.node("MaxPool", [x], "pool1", kernel_shape=[2, 2], strides=[2, 2])
    x = b.node("Relu", [b.batchnorm(b.conv(x, "conv2", 4, 8), "bn2", 8)], "relu2")
    x = b.node("Flatten", [x], "flatten", axis=1)
    return b.model([batch, 1, 8, 8], b.gemm(x, "fc", 8 * 2 * 2, 10))


def fixed_batch_cnn(opset: int = 13, seed: int = 0) -> onnx.ModelProto:
    """digits_cnn with a fixed batch of 4 written into the model."""
    return digits_cnn(opset, seed, batch=4)


def residual_block(opset: int = 13, seed: int = 0) -> onnx.ModelProto:
    """conv-relu-conv, Add with the block input, relu: one ResNet basic block on 4x6x6."""
    b = OnnxBuilder("residual_block", opset, seed)
    x = b.node("Relu", [b.conv("input", "conv1", 4, 4, pads=[1, 1, 1, 1])], "relu1")
    x = b.conv(x, "conv2", 4, 4, pads=[1, 1, 1, 1])
    x = b.node("Add", [x, "input"], "add")
    return b.model(["N", 4, 6, 6], b.node("Relu", [x], "relu_out"))


def grouped_conv_net(opset: int = 13, seed: int = 0) -> onnx.ModelProto:
    """Grouped conv (groups 2), depthwise 3x3 with stride 2, pointwise 1x1, on 4x9x9."""
    b = OnnxBuilder("grouped_conv_net", opset, seed)
    x = b.node("Relu", [b.conv("input", "grouped", 4, 8, groups=2, pads=[1, 1, 1, 1])], "relu1")
    x = b.node("Relu", [b.conv(x, "depthwise", 8, 8, groups=8, strides=[2, 2])], "relu2")
    return b.model(["N", 4, 9, 9], b.conv(x, "pointwise", 8, 6, k=1))


def depthwise_net(opset: int = 13, seed: int = 0) -> onnx.ModelProto:
    """MobileNet's separable convolutions without grouped convs on 4x7x7: depthwise 3x3 (pad 1) with
    ReLU, depthwise 3x3 with stride 2, pointwise 1x1."""
    b = OnnxBuilder("depthwise_net", opset, seed)
    x = b.node("Relu", [b.conv("input", "dw1", 4, 4, groups=4, pads=[1, 1, 1, 1])], "relu1")
    x = b.conv(x, "dw2", 4, 4, groups=4, strides=[2, 2])
    return b.model(["N", 4, 7, 7], b.conv(x, "pw", 4, 3, k=1))


def mlp(opset: int = 13, seed: int = 0) -> onnx.ModelProto:
    """Dense-only network on a 2-D (N, 16) input: Gemm-relu, then MatMul + Add (bias)."""
    b = OnnxBuilder("mlp", opset, seed)
    x = b.node("Relu", [b.gemm("input", "fc1", 16, 12)], "relu1")
    w = b.constant("fc2.weight_t", b.rng.normal(0, 0.3, (12, 5)).astype(np.float32))
    y = b.node("MatMul", [x, w], "fc2_matmul")
    y = b.node("Add", [y, b.weight("fc2.bias", (5,))], "fc2_bias", **b.broadcast_attrs())
    return b.model(["N", 16], y)


def softmax_mlp(opset: int = 13, seed: int = 0) -> onnx.ModelProto:
    """mlp followed by a final Softmax over the classes."""
    b = OnnxBuilder("softmax_mlp", opset, seed)
    x = b.node("Relu", [b.gemm("input", "fc1", 16, 12)], "relu1")
    x = b.gemm(x, "fc2", 12, 5)
    axis = {"axis": 1} if opset < 13 else {"axis": -1}
    return b.model(["N", 16], b.node("Softmax", [x], "softmax", **axis))


def squeeze_softmax_net(opset: int = 13, seed: int = 0) -> onnx.ModelProto:
    """SqueezeNet's ending: 1x1 conv, ReLU, global average pool to (N, C, 1, 1), Softmax over axis 1."""
    b = OnnxBuilder("squeeze_softmax_net", opset, seed)
    x = b.node("Relu", [b.conv("input", "classifier", 4, 6, k=1)], "relu")
    x = b.node("GlobalAveragePool", [x], "pool")
    return b.model(["N", 4, 5, 5], b.node("Softmax", [x], "softmax", axis=1))


def concat_net(opset: int = 13, seed: int = 0) -> onnx.ModelProto:
    """Two branches (3x3 and 1x1 conv) concatenated on channels, then a 1x1 conv."""
    b = OnnxBuilder("concat_net", opset, seed)
    left = b.node("Relu", [b.conv("input", "branch3x3", 3, 4, pads=[1, 1, 1, 1])], "relu_l")
    right = b.node("Relu", [b.conv("input", "branch1x1", 3, 2, k=1)], "relu_r")
    x = b.node("Concat", [left, right], "concat", axis=1)
    return b.model(["N", 3, 5, 5], b.conv(x, "mix", 6, 4, k=1))


def avgpool_net(opset: int = 13, seed: int = 0) -> onnx.ModelProto:
    """Conv, AveragePool 3x3/2 with padding (count_include_pad=0; ceil_mode from opset 10),
    a second padded AveragePool counting the padding (opset 7+), GlobalAveragePool, Flatten, dense."""
    b = OnnxBuilder("avgpool_net", opset, seed)
    x = b.node("Relu", [b.conv("input", "conv", 2, 4)], "relu")
    ceil = {"ceil_mode": 1} if opset >= 10 else {}
    x = b.node("AveragePool", [x], "avg", kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], **ceil)
    if opset >= 7:
        x = b.node("AveragePool", [x], "avg_incl", kernel_shape=[2, 2], pads=[1, 1, 0, 0], count_include_pad=1)
    x = b.node("Flatten", [b.node("GlobalAveragePool", [x], "gap")], "flatten", axis=1)
    return b.model(["N", 2, 12, 12], b.gemm(x, "fc", 4, 3))


def pooled_concat_net(opset: int = 13, seed: int = 0) -> onnx.ModelProto:
    """Fan-out into a 3x3 and a 1x1 branch, Concat, a stand-alone Relu, BatchNormalization (a
    ScaleShift: it follows no conv), AveragePool 2x2 (a shift), GlobalAveragePool over 3x3 (a
    reciprocal), Flatten, dense: every stream stage of the RTL library on 3x6x6."""
    b = OnnxBuilder("pooled_concat_net", opset, seed)
    left = b.node("Relu", [b.conv("input", "branch3x3", 3, 4, pads=[1, 1, 1, 1])], "relu_l")
    right = b.conv("input", "branch1x1", 3, 2, k=1)
    x = b.node("Relu", [b.node("Concat", [left, right], "concat", axis=1)], "relu_cat")
    x = b.node("AveragePool", [b.batchnorm(x, "bn", 6)], "avg", kernel_shape=[2, 2], strides=[2, 2])
    x = b.node("Flatten", [b.node("GlobalAveragePool", [x], "gap")], "flatten", axis=1)
    return b.model(["N", 3, 6, 6], b.gemm(x, "fc", 6, 3))


def mean_net(opset: int = 13, seed: int = 0) -> onnx.ModelProto:
    """GlobalAveragePool alone on a signed 4x6x6 input: a mean over 36 values (no power of two,
    a reciprocal), so the average's division alone decides the output codes."""
    b = OnnxBuilder("mean_net", opset, seed)
    return b.model(["N", 4, 6, 6], b.node("GlobalAveragePool", ["input"], "gap"))


def dead_channel_scale_net(opset: int = 13, seed: int = 0) -> onnx.ModelProto:
    """Conv-relu, max pool 2, then a BatchNormalization that folds into nothing (a ScaleShift) whose
    channel 1 is nearly dead (variance 1e-4: a scale ~100 times the others, so per-channel scale
    formats), leaky 0.1, and a 1x1 conv, on 3x6x6."""
    b = OnnxBuilder("dead_channel_scale_net", opset, seed)
    x = b.node("Relu", [b.conv("input", "conv", 3, 4, pads=[1, 1, 1, 1])], "relu")
    x = b.node("MaxPool", [x], "pool", kernel_shape=[2, 2], strides=[2, 2])
    var = np.array([1.0, 1e-4, 0.8, 1.2], np.float32)
    inputs = [x, b.constant("bn.scale", np.array([1.0, 1.0, 0.9, 1.1], np.float32)),
              b.constant("bn.bias", np.array([0.1, -0.2, 0.0, 0.3], np.float32)),
              b.constant("bn.mean", np.array([0.5, 0.2, 0.4, 0.6], np.float32)), b.constant("bn.var", var)]
    x = b.node("BatchNormalization", inputs, "bn", epsilon=1e-5, **({"is_test": 1} if opset < 7 else {}))
    x = b.node("LeakyRelu", [x], "leaky", alpha=0.1)
    return b.model(["N", 3, 6, 6], b.conv(x, "head", 4, 2, k=1))


def pad_net(opset: int = 13, seed: int = 0) -> onnx.ModelProto:
    """Explicit zero Pad nodes: one before a conv, one after a relu before a max pool."""
    b = OnnxBuilder("pad_net", opset, seed)
    x = b.pad("input", "pad_conv", [0, 0, 1, 2, 0, 0, 1, 0])
    x = b.node("Relu", [b.conv(x, "conv", 2, 3)], "relu")
    x = b.pad(x, "pad_pool", [0, 0, 1, 1, 0, 0, 1, 1])
    return b.model(["N", 2, 7, 7], b.node("MaxPool", [x], "pool", kernel_shape=[3, 3], strides=[2, 2]))


def clip_net(opset: int = 13, seed: int = 0) -> onnx.ModelProto:
    """Conv then Clip(0, 6), the ReLU6 of MobileNets, written as attributes or inputs by opset."""
    b = OnnxBuilder("clip_net", opset, seed)
    x = b.clip(b.conv("input", "conv", 3, 4, pads=[1, 1, 1, 1]), "relu6", 0.0, 6.0)
    return b.model(["N", 3, 6, 6], b.conv(x, "conv_out", 4, 2, k=1))


def leaky_net(opset: int = 13, seed: int = 0) -> onnx.ModelProto:
    """YOLO-tiny style on 3x8x8: conv+BN+LeakyRelu(0.1) (fused), max pool 2, conv+LeakyRelu(0.1), Concat
    with the pooled map, a stand-alone LeakyRelu(0.125) (a power-of-two slope), a 1x1 conv head."""
    b = OnnxBuilder("leaky_net", opset, seed)
    x = b.node("LeakyRelu", [b.batchnorm(b.conv("input", "conv1", 3, 4, pads=[1, 1, 1, 1]), "bn1", 4)], "leaky1", alpha=0.1)
    pooled = b.node("MaxPool", [x], "pool1", kernel_shape=[2, 2], strides=[2, 2])
    x = b.node("LeakyRelu", [b.conv(pooled, "conv2", 4, 6, pads=[1, 1, 1, 1])], "leaky2", alpha=0.1)
    x = b.node("LeakyRelu", [b.node("Concat", [x, pooled], "concat", axis=1)], "leaky_cat", alpha=0.125)
    return b.model(["N", 3, 8, 8], b.conv(x, "head", 10, 3, k=1))


def unet(opset: int = 13, seed: int = 0, upsample: str = "resize") -> onnx.ModelProto:
    """A two-level U-Net on 1x32x32: conv-relu (the skip), max pool 2, conv-relu, nearest upsampling by 2
    (Resize, or Upsample before opset 10) or with upsample="transposed" a 2x2 stride-2 ConvTranspose
    and relu, Concat with the skip, conv-relu, 1x1 head."""
    b = OnnxBuilder("unet", opset, seed)
    skip = b.node("Relu", [b.conv("input", "enc1", 1, 4, pads=[1, 1, 1, 1])], "enc1_relu")
    x = b.node("MaxPool", [skip], "pool", kernel_shape=[2, 2], strides=[2, 2])
    x = b.node("Relu", [b.conv(x, "enc2", 4, 6, pads=[1, 1, 1, 1])], "enc2_relu")
    scales = b.constant("up.scales", np.array([1, 1, 2, 2], np.float32))
    if upsample == "transposed":
        weight, bias = b.weight("up.weight", (6, 6, 2, 2)), b.weight("up.bias", (6,))
        x = b.node("Relu", [b.node("ConvTranspose", [x, weight, bias], "up", kernel_shape=[2, 2], strides=[2, 2])], "up_relu")
    elif opset < 10:
        x = b.node("Upsample", [x, scales] if opset >= 9 else [x], "up", mode="nearest",
                   **({} if opset >= 9 else {"scales": [1.0, 1.0, 2.0, 2.0]}))
    elif opset == 10:
        x = b.node("Resize", [x, scales], "up", mode="nearest")
    else:
        x = b.node("Resize", [x, b.constant("up.roi", np.array([], np.float32)), scales], "up", mode="nearest")
    x = b.node("Concat", [x, skip], "concat", axis=1)
    x = b.node("Relu", [b.conv(x, "dec1", 10, 4, pads=[1, 1, 1, 1])], "dec1_relu")
    return b.model(["N", 1, 32, 32], b.conv(x, "head", 4, 2, k=1))


def unet_transposed(opset: int = 13, seed: int = 0) -> onnx.ModelProto:
    """unet with a 2x2 stride-2 ConvTranspose (and relu) in place of the nearest upsampling."""
    return unet(opset, seed, upsample="transposed")


def arithmetic_bn_net(opset: int = 13, seed: int = 0) -> onnx.ModelProto:
    """BatchNorm written as arithmetic with constants, as DenseNet/Inception-v2 exports do: conv,
    Mul by (C, 1, 1) and Add of (1, C, 1, 1) (fold into the conv), relu, Sub of a scalar and Div by
    (C, 1, 1) (one ScaleShift, relu fused), constant - x (a second ScaleShift; -x + c before opset 7), 1x1 conv, Mul by a
    scalar (folds into it); on 2x5x5."""
    b = OnnxBuilder("arithmetic_bn_net", opset, seed)
    bc = b.broadcast_attrs()
    x = b.conv("input", "conv", 2, 4, pads=[1, 1, 1, 1])
    x = b.node("Mul", [x, b.constant("bn_scale", b.rng.uniform(0.5, 1.5, (4, 1, 1)).astype(np.float32))], "mul", **bc)
    x = b.node("Add", [x, b.constant("bn_shift", b.rng.normal(0, 0.2, (1, 4, 1, 1)).astype(np.float32))], "add", **bc)
    x = b.node("Relu", [x], "relu")
    x = b.node("Sub", [x, b.constant("mean", np.array(0.25, np.float32))], "sub", **bc)
    x = b.node("Div", [x, b.constant("std", b.rng.uniform(0.5, 1.5, (4, 1, 1)).astype(np.float32))], "div", **bc)
    x = b.node("Relu", [x], "relu2")
    flip = b.constant("flip", b.rng.normal(0, 0.5, (4, 1, 1)).astype(np.float32))
    if opset >= 7:
        x = b.node("Sub", [flip, x], "flip")
    else:  # before opset 7 only the second input broadcasts: -x + c
        x = b.node("Add", [b.node("Mul", [x, b.constant("minus", np.array(-1.0, np.float32))], "neg", **bc), flip],
                   "flip", **bc)
    x = b.conv(x, "mix", 4, 3, k=1)
    return b.model(["N", 2, 5, 5], b.node("Mul", [x, b.constant("half", np.array(0.5, np.float32))], "scale", **bc))


def channel_shuffle(b: OnnxBuilder, x: str, name: str, channels: int, groups: int, hw: tuple[int, int]) -> str:
    """ShuffleNet's channel shuffle: Reshape to (N, g, C/g, H, W), Transpose(0, 2, 1, 3, 4), Reshape back."""
    split = b.constant(f"{name}.split", np.array([-1, groups, channels // groups, *hw], np.int64))
    merge = b.constant(f"{name}.merge", np.array([-1, channels, *hw], np.int64))
    x = b.node("Reshape", [x, split], f"{name}_split")
    x = b.node("Transpose", [x], f"{name}_transpose", perm=[0, 2, 1, 3, 4])
    return b.node("Reshape", [x, merge], f"{name}_merge")


def shuffle_net(opset: int = 13, seed: int = 0) -> onnx.ModelProto:
    """A ShuffleNet unit on 4x6x6: grouped 1x1 conv (groups 2), channel shuffle (stays: a
    depthwise conv follows), depthwise 3x3, channel shuffle of 4 groups (folds into the plain
    1x1 conv after it)."""
    b = OnnxBuilder("shuffle_net", opset, seed)
    x = b.node("Relu", [b.conv("input", "group1x1", 4, 8, k=1, groups=2)], "relu1")
    x = channel_shuffle(b, x, "shuffle1", 8, 2, (6, 6))
    x = b.conv(x, "depthwise", 8, 8, groups=8, pads=[1, 1, 1, 1])
    x = channel_shuffle(b, x, "shuffle2", 8, 4, (6, 6))
    return b.model(["N", 4, 6, 6], b.conv(x, "mix", 8, 5, k=1))


def line_net(opset: int = 13, seed: int = 0) -> onnx.ModelProto:
    """A 1-D network (keyword spotting / ECG style) on (N, 2, 16): Conv1d k5 pad 2, relu, MaxPool1d 2,
    Conv1d k3 stride 2 pad 1, relu, AvgPool1d 2, Flatten, dense 3."""
    b = OnnxBuilder("line_net", opset, seed)

    def conv1d(x: str, name: str, c_in: int, c_out: int, k: int, **attrs: object) -> str:
        w, bias = b.weight(f"{name}.weight", (c_out, c_in, k)), b.weight(f"{name}.bias", (c_out,))
        return b.node("Conv", [x, w, bias], name, kernel_shape=[k], **attrs)

    x = b.node("Relu", [conv1d("input", "conv1", 2, 4, 5, pads=[2, 2])], "relu1")
    x = b.node("MaxPool", [x], "pool", kernel_shape=[2], strides=[2])
    x = b.node("Relu", [conv1d(x, "conv2", 4, 4, 3, strides=[2], pads=[1, 1])], "relu2")
    x = b.node("AveragePool", [x], "avg", kernel_shape=[2], strides=[2])
    x = b.node("Flatten", [x], "flatten", axis=1)
    return b.model(["N", 2, 16], b.gemm(x, "fc", 8, 3))


# name -> (builder, lowest opset it can be written at)
ONNX_BUILDERS: dict[str, tuple[Callable[..., onnx.ModelProto], int]] = {
    "digits_cnn": (digits_cnn, 6),
    "fixed_batch_cnn": (fixed_batch_cnn, 6),
    "residual_block": (residual_block, 6),
    "grouped_conv_net": (grouped_conv_net, 6),
    "depthwise_net": (depthwise_net, 6),
    "mlp": (mlp, 6),
    "softmax_mlp": (softmax_mlp, 6),
    "squeeze_softmax_net": (squeeze_softmax_net, 6),
    "mean_net": (mean_net, 6),
    "dead_channel_scale_net": (dead_channel_scale_net, 6),
    "concat_net": (concat_net, 6),
    "avgpool_net": (avgpool_net, 6),
    "pad_net": (pad_net, 6),
    "clip_net": (clip_net, 6),
    "pooled_concat_net": (pooled_concat_net, 6),
    "arithmetic_bn_net": (arithmetic_bn_net, 6),
    "shuffle_net": (shuffle_net, 6),
    "line_net": (line_net, 6),
    "leaky_net": (leaky_net, 6),
    "unet": (unet, 7),
    "unet_transposed": (unet_transposed, 6),
}


def input_shape(model: onnx.ModelProto) -> tuple[int | str, ...]:
    """The first graph input's shape, with a symbolic dimension as its name."""
    dims = model.graph.input[0].type.tensor_type.shape.dim
    return tuple(d.dim_value if d.HasField("dim_value") else d.dim_param for d in dims)


def random_input(model: onnx.ModelProto, batch: int = 3, seed: int = 1) -> np.ndarray:
    """A seeded float32 batch for the model's first input (a fixed batch size wins over `batch`)."""
    shape = input_shape(model)
    first = shape[0] if isinstance(shape[0], int) and shape[0] > 0 else batch
    return np.random.default_rng(seed).normal(0, 1, (first, *shape[1:])).astype(np.float32)


def _randomize_batchnorm(module: torch.nn.Module, seed: int) -> None:
    generator = torch.Generator().manual_seed(seed)
    for bn in module.modules():
        if isinstance(bn, torch.nn.BatchNorm2d | torch.nn.BatchNorm1d):
            with torch.no_grad():
                bn.weight.uniform_(0.5, 1.5, generator=generator)
                bn.bias.normal_(0, 0.2, generator=generator)
                bn.running_mean.normal_(0, 0.2, generator=generator)
                bn.running_var.uniform_(0.5, 1.5, generator=generator)


class TorchDigitsCNN(torch.nn.Module):
    """torch twin of digits_cnn: input (N, 1, 8, 8), 10 outputs."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 4, 3, padding=1)
        self.pool = torch.nn.MaxPool2d(2)
        self.conv2 = torch.nn.Conv2d(4, 8, 3)
        self.bn2 = torch.nn.BatchNorm2d(8)
        self.fc = torch.nn.Linear(32, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(torch.relu(self.conv1(x)))
        x = torch.relu(self.bn2(self.conv2(x)))
        return self.fc(torch.flatten(x, 1))


class TorchResidualNet(torch.nn.Module):
    """A basic residual block, a ReLU6 depthwise conv, global average pool, view(N, -1), dense."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = torch.nn.Conv2d(3, 3, 3, padding=1, bias=False)
        self.bn1 = torch.nn.BatchNorm2d(3)
        self.conv2 = torch.nn.Conv2d(3, 3, 3, padding=1)
        self.depthwise = torch.nn.Conv2d(3, 3, 3, stride=2, groups=3)
        self.fc = torch.nn.Linear(3, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.relu(self.bn1(self.conv1(x)))
        y = torch.relu(self.conv2(y) + x)
        y = torch.nn.functional.relu6(self.depthwise(y))
        y = torch.nn.functional.adaptive_avg_pool2d(y, 1)
        return self.fc(y.view(y.size(0), -1))


class TorchMLP(torch.nn.Module):
    """Dense-only: (N, 16) -> 12 -> BatchNorm1d -> relu -> 5 -> softmax."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = torch.nn.Linear(16, 12)
        self.bn = torch.nn.BatchNorm1d(12)
        self.fc2 = torch.nn.Linear(12, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.fc2(torch.relu(self.bn(self.fc1(x)))), dim=1)


class TorchUNet(torch.nn.Module):
    """A small U-Net on 1x16x16: conv + LeakyReLU(0.1) (the skip), max pool, conv + relu, then both a nearest
    nn.Upsample and a 2x2 stride-2 ConvTranspose2d + relu, concatenated with the skip, 1x1 head."""

    def __init__(self) -> None:
        super().__init__()
        self.enc1 = torch.nn.Conv2d(1, 4, 3, padding=1)
        self.enc2 = torch.nn.Conv2d(4, 4, 3, padding=1)
        self.up = torch.nn.Upsample(scale_factor=2, mode="nearest")
        self.up_t = torch.nn.ConvTranspose2d(4, 4, 2, stride=2)
        self.head = torch.nn.Conv2d(12, 2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skip = torch.nn.functional.leaky_relu(self.enc1(x), 0.1)
        low = torch.relu(self.enc2(torch.nn.functional.max_pool2d(skip, 2)))
        return self.head(torch.cat([self.up(low), torch.relu(self.up_t(low)), skip], dim=1))


class TorchUnequalBranches(torch.nn.Module):
    """A fan-out into a 1x1 conv and a padded 3x3 conv (depthwise or full) of unequal latency,
    joined by a channel Concat or an Add (`first` names the join's first input), then a global
    average pool: the smallest top that deadlocked with too little buffering on the fast branch."""

    def __init__(self, join: str = "concat", first: str = "1x1", depthwise: bool = True) -> None:
        super().__init__()
        self.join, self.first = join, first
        self.pointwise = torch.nn.Conv2d(3, 3 if join == "add" else 9, 1)
        self.spatial = torch.nn.Conv2d(3, 3, 3, padding=1, groups=3 if depthwise else 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, b = self.pointwise(x), self.spatial(x)
        if self.first != "1x1":
            a, b = b, a
        y = a + b if self.join == "add" else torch.cat([a, b], 1)
        return torch.nn.functional.adaptive_avg_pool2d(y, 1)


class TorchDeadChannelBN(torch.nn.Module):
    """conv 3->8 -> ReLU6 -> BatchNorm -> conv 8->4 on (3, 8, 8): the BatchNorm cannot fold (it follows the
    ReLU6) and becomes a ScaleShift. Channels 0..2 are dead: their conv bias keeps them at 0 after the
    ReLU6 and their running variance is 1e-6, so their scales are ~300 while the others stay ~1."""

    DEAD = 3

    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 8, 3, padding=1)
        self.bn = torch.nn.BatchNorm2d(8)
        self.head = torch.nn.Conv2d(8, 4, 1)
        generator = torch.Generator().manual_seed(1)
        with torch.no_grad():
            self.conv.bias[: self.DEAD] = -100.0
            self.bn.weight.uniform_(0.8, 1.2, generator=generator)
            self.bn.bias.normal_(0, 0.2, generator=generator)
            self.bn.running_mean.uniform_(1.0, 2.0, generator=generator)
            self.bn.running_var.uniform_(0.5, 1.5, generator=generator)
            self.bn.running_mean[: self.DEAD] = 0.0
            self.bn.running_var[: self.DEAD] = 1e-6

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.bn(torch.nn.functional.relu6(self.conv(x))))


def dead_channel_bn_onnx(seed: int = 0) -> bytes:
    """TorchDeadChannelBN (weights seeded) exported to ONNX bytes."""
    from fpgaflow.importers.torch_import import export_onnx_bytes

    torch.manual_seed(seed)
    model = TorchDeadChannelBN().eval()
    return export_onnx_bytes(model, torch.randn(2, 3, 8, 8), dynamo=False)


TORCH_MODELS: dict[str, tuple[type[torch.nn.Module], tuple[int, ...]]] = {
    "digits_cnn": (TorchDigitsCNN, (1, 8, 8)),
    "residual_net": (TorchResidualNet, (3, 6, 6)),
    "mlp": (TorchMLP, (16,)),
    "unet": (TorchUNet, (1, 16, 16)),
}


def torch_model(name: str, seed: int = 0) -> tuple[torch.nn.Module, torch.Tensor]:
    """A seeded torch model from TORCH_MODELS in eval mode, and an example batch of 2."""
    cls, shape = TORCH_MODELS[name]
    torch.manual_seed(seed)
    model = cls()
    _randomize_batchnorm(model, seed)
    example = torch.randn((2, *shape), generator=torch.Generator().manual_seed(seed + 1))
    return model.eval(), example
