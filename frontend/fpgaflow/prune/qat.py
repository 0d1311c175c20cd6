"""Quantization-aware fine-tuning of a GraphModule: its forward computes what the fixed-point reference computes.

The formats are fpgaflow's own: `refresh` writes the module's current weights into a copy
of the IR graph and quantizes it (fpgaflow.quant.quantize, calibrated on the given batch,
`bits` and the per-layer `widths`), exactly what `build --calib` will do with the
exported model. While attached, forward hooks replace each Conv2d/Dense layer's output by
the fake-quantized computation (fpgaflow.quant.fake_quant): input codes, weights on their
format's grid (the weight format re-fitted from the current weights at every step, as
quantize fits it), the bias at F_acc = F_in + F_w, the accumulator requantized to the
output format, then the activation. Max pools, Flatten, Pad and a stand-alone ReLU keep
codes on their grid by themselves. `snap` finally puts every weight and bias exactly on its
grid, so the exported model quantizes to the codes the fine-tuning used.

The float products are exact while the accumulator's codes stay below 2^24 (float32's
mantissa; the digits model's widest accumulator is 19 bits at 8 bits), so the forward is
bit-exact against the reference there.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from fpgaflow.errors import UserError
from fpgaflow.fixed import FixedType
from fpgaflow.ir.graph import Graph
from fpgaflow.ir.layers import Activation, Conv2d, Dense, Flatten, MaxPool, Pad, Relu, Softmax
from fpgaflow.prune.torch_graph import GraphModule
from fpgaflow.quant import quantize
from fpgaflow.quant.fake_quant import fake_quantize, fake_quantize_bias
from fpgaflow.quant.formats import weight_format
from fpgaflow.quant.widths import LayerWidths

SUPPORTED = (Conv2d, Dense, MaxPool, Flatten, Pad, Relu, Softmax)
"""Layers the fake-quantized forward covers (their formats are set by Conv2d/Dense or kept)."""


def _core(module: nn.Module) -> nn.Conv2d | nn.Linear:
    return next(part for part in module if isinstance(part, (nn.Conv2d, nn.Linear)))


class QuantizationAwareTraining:
    """Attach to a GraphModule built from `graph`; call refresh(calibration) whenever the formats should follow the weights."""

    def __init__(self, graph: Graph, bits: int, widths: Mapping[str, LayerWidths] | None = None) -> None:
        unsupported = sorted({layer.OP for layer in graph.layers if not isinstance(layer, SUPPORTED)})
        leaky = [layer.name for layer in graph.layers if getattr(layer, "activation", None) is Activation.LEAKY]
        if unsupported or leaky:
            raise UserError(f"quantization-aware fine-tuning covers {', '.join(sorted({c.OP for c in SUPPORTED}))} "
                            f"with ReLU/ReLU6; this model has {', '.join(unsupported + ['LeakyRelu'] * bool(leaky))}")
        self.graph = graph
        self.bits = bits
        self.widths = dict(widths or {})
        self.quantized: Graph | None = None
        self._handles: list[torch.utils.hooks.RemovableHandle] = []

    def current_graph(self, model: GraphModule) -> Graph:
        """A copy of the IR graph with the module's current weights and biases."""
        graph = copy.deepcopy(self.graph)
        for layer in graph.layers:
            if isinstance(layer, (Conv2d, Dense)):
                core = _core(model.layers[layer.name])
                layer.weight.values = core.weight.detach().double().numpy().reshape(layer.weight.values.shape).copy()
                if layer.bias is not None and core.bias is not None:
                    layer.bias.values = core.bias.detach().double().numpy().copy()
        return graph

    def refresh(self, model: GraphModule, calibration: np.ndarray) -> Graph:
        """Formats from the current weights, calibrated as the build will calibrate them."""
        self.quantized = quantize(self.current_graph(model), calibration, self.bits, self.widths)
        return self.quantized

    def fmt(self, tensor: str) -> FixedType:
        assert self.quantized is not None, "call refresh first"
        found = self.quantized.tensors[tensor].ftype
        assert found is not None
        return found

    def _weight_bits(self, layer: str) -> int:
        chosen = self.widths.get(layer, LayerWidths()).weight_bits
        return self.bits if chosen is None else chosen

    def _layer_forward(self, layer: Conv2d | Dense, module: nn.Module, x: torch.Tensor) -> torch.Tensor:
        core = _core(module)
        in_type, out_type = self.fmt(layer.inputs[0]), self.fmt(layer.output)
        w_type = weight_format(core.weight.detach().double().numpy(), self._weight_bits(layer.name))
        weight = fake_quantize(core.weight, w_type)
        bias = None if core.bias is None else fake_quantize_bias(core.bias, in_type.frac + w_type.frac)
        for part in module:
            if part is core:
                x = F.conv2d(x, weight, bias, core.stride, core.padding, core.dilation, core.groups) \
                    if isinstance(core, nn.Conv2d) else F.linear(x, weight, bias)
                x = fake_quantize(x, out_type)
            else:
                x = part(x)
        return x

    def attach(self, model: GraphModule) -> None:
        """Hooks: the graph input on its format, every Conv2d/Dense layer fake-quantized."""
        self.detach()
        input_name = model.input_name
        self._handles.append(model.register_forward_pre_hook(
            lambda module, args: (fake_quantize(args[0], self.fmt(input_name)),)))
        for layer in self.graph.layers:
            if isinstance(layer, (Conv2d, Dense)):
                self._handles.append(model.layers[layer.name].register_forward_hook(
                    lambda module, args, output, layer=layer: self._layer_forward(layer, module, args[0])))

    def detach(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []

    @torch.no_grad()
    def snap(self, model: GraphModule) -> None:
        """Put every weight and bias on its grid (the formats of the last refresh and the current weights)."""
        for layer in self.graph.layers:
            if isinstance(layer, (Conv2d, Dense)):
                core = _core(model.layers[layer.name])
                w_type = weight_format(core.weight.double().numpy(), self._weight_bits(layer.name))
                core.weight.copy_(fake_quantize(core.weight, w_type))
                if core.bias is not None:
                    core.bias.copy_(fake_quantize_bias(core.bias, self.fmt(layer.inputs[0]).frac + w_type.frac))
