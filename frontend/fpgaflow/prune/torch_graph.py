"""IR graph -> trainable torch module, so an imported ONNX model can be fine-tuned while pruning.

Pruning needs gradients, and the IR is plain numpy; rather than a second importer from
ONNX to torch, the IR (already the single source of truth) is turned into ordinary
torch layers (nn.Conv2d, nn.Linear, nn.BatchNorm2d ...). Ordinary layers matter:
Torch-Pruning's dependency graph recognises them, and torch.onnx.export writes them
back as the ONNX ops the importer reads. Parameters are named `layers.<layer>.<field>`
after the IR layer, which is also the key format of a `.pt` state dict (docs/pruning.md).
"""

from __future__ import annotations

import warnings

import numpy as np
import onnx
import torch
from torch import nn
from torch.nn import functional as F

from fpgaflow.errors import UserError
from fpgaflow.ir.graph import Graph
from fpgaflow.ir.layers import (
    Activated,
    Activation,
    Add,
    AvgPool,
    BatchNorm,
    Concat,
    Conv2d,
    ConvTranspose2d,
    Dense,
    Flatten,
    GlobalAvgPool,
    Layer,
    MaxPool,
    Pad,
    Relu,
    ScaleShift,
    Softmax,
    Upsample,
)
from fpgaflow.reference.kernels import avg_pool_counts


def _param(values: np.ndarray) -> nn.Parameter:
    return nn.Parameter(torch.tensor(np.asarray(values), dtype=torch.float32))


def _activation(layer: Activated) -> nn.Module:
    if layer.activation is Activation.RELU:
        return nn.ReLU()
    if layer.activation is Activation.RELU6:
        return nn.ReLU6()
    if layer.activation is Activation.LEAKY:
        return nn.LeakyReLU(layer.alpha)
    return nn.Identity()


def _symmetric(padding: tuple[int, int, int, int]) -> tuple[int, int] | None:
    """(pad_h, pad_w) when top == bottom and left == right, else None."""
    top, left, bottom, right = padding
    return (top, left) if (top, left) == (bottom, right) else None


def _zero_pad(padding: tuple[int, int, int, int]) -> nn.ZeroPad2d:
    top, left, bottom, right = padding
    return nn.ZeroPad2d((left, right, top, bottom))


class ChannelAffine(nn.Module):
    """y = scale * x + shift per channel: the IR's ScaleShift as a trainable module."""

    def __init__(self, scale: np.ndarray, shift: np.ndarray) -> None:
        super().__init__()
        self.scale = _param(scale)
        self.shift = _param(shift)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = (1, -1) + (1,) * (x.dim() - 2)
        return x * self.scale.view(shape) + self.shift.view(shape)


class AsymmetricMaxPool(nn.Module):
    """Max pool whose padding differs per side: pad with -inf first, as the IR defines it."""

    def __init__(self, layer: MaxPool) -> None:
        super().__init__()
        top, left, bottom, right = layer.padding
        self.pad = (left, right, top, bottom)
        self.pool = nn.MaxPool2d(layer.kernel, layer.stride, 0, layer.dilation, ceil_mode=layer.ceil_mode)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(F.pad(x, self.pad, value=float("-inf")))


def _conv(layer: Conv2d) -> nn.Module:
    out_channels, group_in, kh, kw = layer.weight.values.shape
    padding = _symmetric(layer.padding)
    conv = nn.Conv2d(
        group_in * layer.groups,
        out_channels,
        (kh, kw),
        stride=layer.stride,
        padding=padding or 0,
        dilation=layer.dilation,
        groups=layer.groups,
        bias=layer.bias is not None,
    )
    conv.weight = _param(layer.weight.values)
    if layer.bias is not None:
        conv.bias = _param(layer.bias.values)
    parts = ([] if padding is not None else [_zero_pad(layer.padding)]) + [conv, _activation(layer)]
    return nn.Sequential(*parts)


def _conv_transpose(layer: ConvTranspose2d) -> nn.Module:
    in_channels, out_channels = layer.weight.values.shape[:2]
    conv = nn.ConvTranspose2d(in_channels, out_channels, layer.block, stride=layer.block, bias=layer.bias is not None)
    conv.weight = _param(layer.weight.values)
    if layer.bias is not None:
        conv.bias = _param(layer.bias.values)
    return nn.Sequential(conv, _activation(layer))


def _dense(layer: Dense) -> nn.Module:
    out_features, in_features = layer.weight.values.shape
    linear = nn.Linear(in_features, out_features, bias=layer.bias is not None)
    linear.weight = _param(layer.weight.values)
    if layer.bias is not None:
        linear.bias = _param(layer.bias.values)
    return nn.Sequential(nn.Flatten(1), linear, _activation(layer))


def _batch_norm(layer: BatchNorm) -> nn.Module:
    norm = nn.BatchNorm2d(len(layer.scale.values), eps=layer.epsilon)
    norm.weight = _param(layer.scale.values)
    norm.bias = _param(layer.bias.values)
    norm.running_mean.copy_(torch.tensor(layer.mean.values, dtype=torch.float32))
    norm.running_var.copy_(torch.tensor(layer.var.values, dtype=torch.float32))
    return norm


def _max_pool(layer: MaxPool) -> nn.Module:
    padding = _symmetric(layer.padding)
    if padding is None:
        return AsymmetricMaxPool(layer)
    return nn.MaxPool2d(layer.kernel, layer.stride, padding, layer.dilation, ceil_mode=layer.ceil_mode)


class AsymmetricAvgPool(nn.Module):
    """Average pool with per-side padding: zero-pad, average, then rescale to the IR's divisor.

    torch pools the padded tensor dividing by its own window counts; multiplying by
    (torch's counts / the IR's counts) gives exactly the IR's divisors, both from the
    reference's avg_pool_counts.
    """

    def __init__(self, layer: AvgPool, shape_hw: tuple[int, int]) -> None:
        super().__init__()
        top, left, bottom, right = layer.padding
        self.pad = nn.ZeroPad2d((left, right, top, bottom))
        self.pool = nn.AvgPool2d(layer.kernel, layer.stride, 0, ceil_mode=layer.ceil_mode, count_include_pad=True)
        padded = (shape_hw[0] + top + bottom, shape_hw[1] + left + right)
        torch_counts = avg_pool_counts(padded, layer.kernel, layer.stride, (0, 0, 0, 0), layer.ceil_mode, True)
        counts = avg_pool_counts(shape_hw, layer.kernel, layer.stride, layer.padding, layer.ceil_mode, layer.count_include_pad)
        self.register_buffer("rescale", torch.tensor(torch_counts / counts, dtype=torch.float32))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.pad(x)) * self.rescale


def _avg_pool(layer: AvgPool, shape_hw: tuple[int, int]) -> nn.Module:
    padding = _symmetric(layer.padding)
    if padding is None:
        return AsymmetricAvgPool(layer, shape_hw)
    return nn.AvgPool2d(layer.kernel, layer.stride, padding, ceil_mode=layer.ceil_mode, count_include_pad=layer.count_include_pad)


def layer_module(layer: Layer, graph: Graph) -> nn.Module | None:
    """The torch module of one IR layer; None for the multi-input ops done in forward (Add, Concat)."""
    if isinstance(layer, Conv2d):
        return _conv(layer)
    if isinstance(layer, Dense):
        return _dense(layer)
    if isinstance(layer, ConvTranspose2d):
        return _conv_transpose(layer)
    if isinstance(layer, BatchNorm):
        return _batch_norm(layer)
    if isinstance(layer, ScaleShift):
        return nn.Sequential(ChannelAffine(layer.scale.values, layer.shift.values), _activation(layer))
    if isinstance(layer, MaxPool):
        return _max_pool(layer)
    if isinstance(layer, AvgPool):
        height, width = graph.input_shape(layer)[1:]
        return _avg_pool(layer, (height, width))
    if isinstance(layer, GlobalAvgPool):
        return nn.AdaptiveAvgPool2d(1)
    if isinstance(layer, Flatten):
        return nn.Flatten(1)
    if isinstance(layer, Softmax):
        return nn.Softmax(dim=1)
    if isinstance(layer, Relu):
        return _activation(layer)
    if isinstance(layer, Pad):
        return _zero_pad(layer.padding)
    if isinstance(layer, Add):
        return _activation(layer)
    if isinstance(layer, Concat):
        return None
    if isinstance(layer, Upsample):
        return nn.Upsample(scale_factor=tuple(float(s) for s in layer.scale), mode="nearest")
    raise UserError(f"layer {layer.name!r} of type {layer.OP} cannot be converted to PyTorch for pruning")


class GraphModule(nn.Module):
    """Runs the IR's layers in order on named tensors; one input, one output.

    A final Softmax is skipped unless `emit_softmax` is set: training and evaluation
    need logits for the cross-entropy, the exported model keeps the Softmax.
    """

    def __init__(self, graph: Graph) -> None:
        super().__init__()
        if len(graph.inputs) != 1 or len(graph.outputs) != 1:
            raise UserError(f"graph {graph.name!r} has {len(graph.inputs)} inputs and {len(graph.outputs)} outputs; pruning needs one of each")
        self.input_name = graph.inputs[0]
        self.output_name = graph.outputs[0]
        self.input_shape = tuple(graph.tensors[self.input_name].shape)
        self.steps = [(layer.name, layer.OP, list(layer.inputs), layer.output) for layer in graph.layers]
        self.emit_softmax = False
        self.layers = nn.ModuleDict()
        for layer in graph.layers:
            module = layer_module(layer, graph)
            if module is not None:
                self.layers[layer.name] = module

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tensors = {self.input_name: x}
        for name, op, inputs, output in self.steps:
            values = [tensors[t] for t in inputs]
            if op == "Softmax" and output == self.output_name and not self.emit_softmax:
                return values[0]
            if op == "Add":
                total = values[0]
                for value in values[1:]:
                    total = total + value
                tensors[output] = self.layers[name](total)
            elif op == "Concat":
                tensors[output] = torch.cat(values, dim=1)
            else:
                tensors[output] = self.layers[name](values[0])
        return tensors[self.output_name]


def graph_to_torch(graph: Graph) -> GraphModule:
    """A float32 torch module computing the same function as the IR graph (eval mode)."""
    return GraphModule(graph).eval()


def export_onnx(model: GraphModule, example: torch.Tensor, path: str) -> None:
    """Write the model as ONNX (opset 13, dynamic batch); pruned zeros stay zeros in the initializers.

    Exported in eval mode with constant folding, so a BatchNorm after a conv is folded
    into its weights; a zero filter whose BatchNorm scale and shift are zero stays zero.
    Input and output keep the names of the graph the module was built from.
    """
    model.eval()
    model.emit_softmax = True
    input_name, output_name = model.input_name, model.output_name
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the TorchScript exporter is deprecated, not broken
        _export(model, example, path, input_name, output_name)
    model.emit_softmax = False
    exported = onnx.load(path)
    name_nodes_after_layers(exported, model.steps)
    onnx.save(exported, path)


ONNX_OPS: dict[str, tuple[str, ...]] = {
    "Conv2d": ("Conv",),
    "ConvTranspose2d": ("ConvTranspose",),
    "Dense": ("Gemm", "MatMul"),
    "ScaleShift": ("Mul",),
    "MaxPool": ("MaxPool",),
    "AvgPool": ("AveragePool",),
    "GlobalAvgPool": ("GlobalAveragePool", "ReduceMean"),
    "Add": ("Add",),
    "Concat": ("Concat",),
    "Flatten": ("Flatten", "Reshape"),
    "Softmax": ("Softmax",),
    "Relu": ("Relu", "Clip", "LeakyRelu"),
    "Pad": ("Pad",),
    "Upsample": ("Resize", "Upsample"),
    "BatchNorm": ("BatchNormalization",),
}
"""The ONNX node an IR layer is imported from, by IR op (the node whose name the importer gives the layer)."""


def name_nodes_after_layers(model: onnx.ModelProto, steps: list[tuple[str, str, list[str], str]]) -> None:
    """Give each IR layer's main ONNX node the layer's name, so export -> import keeps the layer names.

    torch.onnx.export names nodes by module scope ("/layers/conv1/conv1.0/Conv"), which the
    importer would turn into a longer name on every round trip. Nodes come out in the
    order the module runs the layers, so each layer takes the next node of its op; the
    nodes of fused or folded parts (a Relu after a conv) keep their scope names.
    """
    nodes = list(model.graph.node)
    position = 0
    for name, op, _, _ in steps:
        match = next((i for i in range(position, len(nodes)) if nodes[i].op_type in ONNX_OPS.get(op, ())), None)
        if match is not None:
            nodes[match].name = name
            position = match + 1


def _export(model: nn.Module, example: torch.Tensor, path: str, input_name: str, output_name: str) -> None:
    torch.onnx.export(
        model,
        (example,),
        path,
        input_names=[input_name],
        output_names=[output_name],
        dynamic_axes={input_name: {0: "batch"}, output_name: {0: "batch"}},
        opset_version=13,
        do_constant_folding=True,
        dynamo=False,
    )
