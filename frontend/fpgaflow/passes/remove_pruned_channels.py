"""Pass that takes pruned channels out of the graph instead of carrying them as zeros.

A channel the hardware would only ever compute as zero, or compute for nobody, costs
line-buffer bits, stream width and cycles. This pass removes such channels exactly: the
kept channels of every tensor hold the same values before and after.

Channels are tracked as (tensor, channel) pairs; the elements of a vector are its
channels. Layers that cannot select channels tie pairs together so they go or stay as
one class: per-channel layers (pools, Relu, Pad, ScaleShift, BatchNorm) tie input
channel c to output channel c, Add ties channel c of every input and the output (the
residual coupling), Concat ties each input channel to its slot in the output, Flatten
ties channel c to its H*W elements, and a grouped conv ties each group's input and
output channels (a group goes away whole). A plain conv (groups = 1) or a dense layer
is where a class ends: it reads channels through weights and writes channels as rows.

A class is removed when nothing outside it needs it: every conv or dense layer that
reads one of its pairs either sees zeros there (the pair is identically zero: zero
weights and zero bias upstream, through relu, pools and all-zero adds) or has zero
weights for it in every output channel that stays. Removing output rows frees more
inputs, so this runs to a fixed point. Pairs of graph inputs and outputs, and pairs
read by a layer that mixes channels non-linearly (Softmax), are never removed.

A zero-weight channel with a nonzero bias is a constant and stays: a conv with zero
padding sees it as not constant at the borders.

No tensor loses every channel: a stream of zero channels cannot carry a frame, and the
layers behind it still owe one output per frame. When every channel of a tensor could go
(a layer whose weights and bias are all zero, a concat input or residual add that is zero
throughout, a layer that nobody reads), one channel stays: the first identically zero one,
else channel 0, with its class (so through Add, Concat, Flatten and groups as above).
Every conv or dense weight that reads an identically zero channel is then set to zero,
which changes no value: a layer reading only such channels has no nonzero weight left,
and its output is its (requantized) bias, a constant frame the engine produces from an
empty ROM. When the graph is quantized, zeros are
read from the codes, which is what the hardware computes with. Sparsity records of
changed weights are dropped; run classify_sparsity after this pass.
"""

from __future__ import annotations

import numpy as np

from fpgaflow.ir.graph import Graph
from fpgaflow.ir.layers import (
    Add,
    AvgPool,
    BatchNorm,
    Concat,
    Conv2d,
    Dense,
    Flatten,
    GlobalAvgPool,
    Layer,
    MaxPool,
    Pad,
    Relu,
    ScaleShift,
    Upsample,
    Weight,
)
from fpgaflow.ir.sparsity import input_channel_index
from fpgaflow.passes.base import GraphPass

_PER_CHANNEL = (Relu, MaxPool, AvgPool, GlobalAvgPool, Pad, ScaleShift, BatchNorm, Upsample)
"""Layers whose output channel c depends on input channel c only."""


class _ChannelClasses:
    """Numbers every (tensor, channel) pair and unites pairs that must be removed together."""

    def __init__(self, graph: Graph) -> None:
        self.offset: dict[str, int] = {}
        total = 0
        for name, tensor in graph.tensors.items():
            self.offset[name] = total
            total += channel_count(tensor.shape)
        self.parent = list(range(total))
        self.counts = {name: channel_count(tensor.shape) for name, tensor in graph.tensors.items()}

    def ids(self, tensor: str) -> np.ndarray:
        return np.arange(self.offset[tensor], self.offset[tensor] + self.counts[tensor])

    def find(self, node: int) -> int:
        root = node
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[node] != root:
            self.parent[node], node = root, self.parent[node]
        return root

    def unite(self, a: np.ndarray, b: np.ndarray) -> None:
        for x, y in zip(a.tolist(), b.tolist(), strict=True):
            rx, ry = self.find(x), self.find(y)
            if rx != ry:
                self.parent[max(rx, ry)] = min(rx, ry)

    def roots(self) -> np.ndarray:
        return np.array([self.find(node) for node in range(len(self.parent))], dtype=np.int64)


def channel_count(shape: tuple[int, ...]) -> int:
    """Channels of a per-sample shape: C of (C, H, W), N of a vector (N,)."""
    return int(shape[0]) if shape else 1


def _spread(graph: Graph, tensor: str) -> int:
    """Elements per channel: H*W of a feature map, 1 of a vector."""
    shape = graph.tensors[tensor].shape
    return graph.tensors[tensor].size // channel_count(shape)


def _is_terminal(layer: Layer) -> bool:
    """A layer that reads channels through weights and ends a class: dense or an ungrouped conv."""
    return isinstance(layer, Dense) or (isinstance(layer, Conv2d) and layer.groups == 1)


def _reads(graph: Graph, layer: Conv2d | Dense) -> np.ndarray:
    """bool (O, C_in): which input-tensor channels each output channel has a nonzero weight for."""
    mask = layer.weight.mask
    out_count = mask.shape[0]
    channels = channel_count(graph.input_shape(layer))
    if isinstance(layer, Dense):
        return mask.reshape(out_count, channels, -1).any(axis=2)
    kernels = mask.any(axis=(2, 3))
    reads = np.zeros((out_count, channels), dtype=bool)
    rows = np.repeat(np.arange(out_count)[:, None], kernels.shape[1], axis=1)
    reads[rows, input_channel_index(kernels.shape, layer.groups)] = kernels
    return reads


def _is_zero(weight: Weight | None, count: int) -> np.ndarray:
    """bool (count,): where a per-channel vector is zero (a missing bias is zero)."""
    return np.ones(count, dtype=bool) if weight is None else ~weight.mask.reshape(count)


def _couple(graph: Graph, classes: _ChannelClasses) -> np.ndarray:
    """Unite coupled pairs; return the pairs that may never be removed (graph inputs/outputs, non-linear mixing)."""
    pinned = np.zeros(len(classes.parent), dtype=bool)
    for name in (*graph.inputs, *graph.outputs):
        pinned[classes.ids(name)] = True
    for layer in graph.layers:
        out = classes.ids(layer.output)
        if isinstance(layer, _PER_CHANNEL):
            classes.unite(classes.ids(layer.inputs[0]), out)
        elif isinstance(layer, Add):
            for name in layer.inputs:
                classes.unite(classes.ids(name), out)
        elif isinstance(layer, Concat):
            classes.unite(np.concatenate([classes.ids(name) for name in layer.inputs]), out)
        elif isinstance(layer, Flatten):
            source = layer.inputs[0]
            classes.unite(np.repeat(classes.ids(source), _spread(graph, source)), out)
        elif isinstance(layer, Conv2d) and layer.groups > 1:
            inp = classes.ids(layer.inputs[0])
            for ins, outs in zip(np.split(inp, layer.groups), np.split(out, layer.groups), strict=True):
                classes.unite(np.full(len(ins) + len(outs) - 1, ins[0]), np.concatenate([ins[1:], outs]))
        elif not _is_terminal(layer):
            for name in layer.inputs:
                pinned[classes.ids(name)] = True
            pinned[out] = True
    return pinned


def zero_channels(graph: Graph) -> dict[str, np.ndarray]:
    """bool (C,) per tensor: channels that are identically zero for every input."""
    zero = {name: np.zeros(channel_count(graph.tensors[name].shape), dtype=bool) for name in graph.inputs}
    for layer in graph.layers:
        count = channel_count(graph.output_shape(layer))
        ins = [zero[name] for name in layer.inputs]
        if isinstance(layer, (Conv2d, Dense)):
            live = _reads(graph, layer) & ~ins[0][None, :]
            out = ~live.any(axis=1) & _is_zero(layer.bias, count)
        elif isinstance(layer, ScaleShift):
            out = (ins[0] | _is_zero(layer.scale, count)) & _is_zero(layer.shift, count)
        elif isinstance(layer, BatchNorm):
            out = _is_zero(layer.scale, count) & _is_zero(layer.bias, count)
        elif isinstance(layer, _PER_CHANNEL):
            out = ins[0]
        elif isinstance(layer, Add):
            out = np.logical_and.reduce(ins)
        elif isinstance(layer, Concat):
            out = np.concatenate(ins)
        elif isinstance(layer, Flatten):
            out = np.repeat(ins[0], _spread(graph, layer.inputs[0]))
        else:
            out = np.zeros(count, dtype=bool)
        zero[layer.output] = out
    return zero


def _unneeded(
    graph: Graph, classes: _ChannelClasses, roots: np.ndarray, needed_roots: np.ndarray, zero: dict[str, np.ndarray]
) -> np.ndarray:
    """bool per pair: removed at the fixed point where no kept conv/dense output reads it (a nonzero one)."""
    terminals = [(layer, _reads(graph, layer)) for layer in graph.layers if _is_terminal(layer)]
    removed = np.zeros(len(roots), dtype=bool)
    while True:
        needed = needed_roots.copy()
        for layer, reads in terminals:
            alive = ~removed[roots[classes.ids(layer.output)]]
            source = layer.inputs[0]
            wanted = reads[alive].any(axis=0) & ~zero[source]
            needed[roots[classes.ids(source)[wanted]]] = True
        now = ~needed[roots]
        if np.array_equal(now, removed):
            return removed
        removed = now


def removable_channels(graph: Graph) -> dict[str, np.ndarray]:
    """bool (C,) per tensor: channels that can go without changing any kept value (see module doc)."""
    classes = _ChannelClasses(graph)
    pinned = _couple(graph, classes)
    roots = classes.roots()
    needed_roots = np.zeros(len(roots), dtype=bool)
    needed_roots[roots[pinned]] = True
    zero = zero_channels(graph)
    while True:
        removed = _unneeded(graph, classes, roots, needed_roots, zero)
        emptied = [name for name, count in classes.counts.items() if count and removed[classes.ids(name)].all()]
        if not emptied:
            return {name: removed[classes.ids(name)] for name in graph.tensors}
        for name in emptied:  # keep one channel: the first zero one (it costs nothing), else channel 0
            keep = int(np.argmax(zero[name])) if zero[name].any() else 0
            needed_roots[roots[classes.ids(name)[keep]]] = True


def _take(weight: Weight | None, keep: np.ndarray, axis: int) -> Weight | None:
    """The weight with only the kept entries along axis; its sparsity record no longer applies."""
    if weight is None or keep.all():
        return weight
    codes = None if weight.codes is None else np.compress(keep, weight.codes, axis=axis)
    channel_frac = weight.channel_frac
    if channel_frac is not None and axis == 0:
        channel_frac = np.compress(keep, channel_frac)
    return Weight(values=np.compress(keep, weight.values, axis=axis), ftype=weight.ftype, codes=codes,
                  channel_frac=channel_frac)


def _shrink_layer(graph: Graph, layer: Layer, keep: dict[str, np.ndarray]) -> None:
    """Drop the removed channels from a layer's weights."""
    out_keep = keep[layer.output]
    if isinstance(layer, Conv2d):
        layer.weight = _take(layer.weight, out_keep, 0)
        if layer.groups == 1:
            layer.weight = _take(layer.weight, keep[layer.inputs[0]], 1)
        else:
            layer.groups = int(out_keep.reshape(layer.groups, -1)[:, 0].sum())
        layer.bias = _take(layer.bias, out_keep, 0)
    elif isinstance(layer, Dense):
        columns = np.repeat(keep[layer.inputs[0]], _spread(graph, layer.inputs[0]))
        layer.weight = _take(_take(layer.weight, out_keep, 0), columns, 1)
        layer.bias = _take(layer.bias, out_keep, 0)
    elif isinstance(layer, (ScaleShift, BatchNorm)):
        for field, weight in layer.weights().items():
            setattr(layer, field, _take(weight, out_keep, 0))


def _zero_reads_of_zero_channels(graph: Graph, layer: Layer, zero_input: np.ndarray) -> None:
    """Set the weights of a conv or dense layer that read identically zero input channels to zero (exact)."""
    if not isinstance(layer, (Conv2d, Dense)) or not zero_input.any():
        return
    weight = layer.weight
    if isinstance(layer, Dense):
        dead = np.broadcast_to(np.repeat(zero_input, _spread(graph, layer.inputs[0]))[None, :], weight.values.shape)
    else:
        kernels = zero_input[input_channel_index(weight.values.shape[:2], layer.groups)]
        dead = np.broadcast_to(kernels[:, :, None, None], weight.values.shape)
    if not (weight.mask & dead).any():
        return
    codes = None if weight.codes is None else np.where(dead, 0, weight.codes)
    layer.weight = Weight(values=np.where(dead, 0.0, weight.values), ftype=weight.ftype, codes=codes,
                          channel_frac=weight.channel_frac)


class RemovePrunedChannels(GraphPass):
    """Remove zero and unread channels from every layer and tensor, exactly, and note the counts."""

    name = "remove_pruned_channels"
    requires = ("fold_batchnorm", "infer_shapes")

    def run(self, graph: Graph) -> None:
        removable = removable_channels(graph)
        zero = zero_channels(graph)
        keep = {name: ~mask for name, mask in removable.items()}
        for layer in graph.layers:
            before_in = channel_count(graph.input_shape(layer)) if layer.inputs else 0
            before_out = channel_count(graph.output_shape(layer))
            _shrink_layer(graph, layer, keep)
            if layer.inputs:
                source = layer.inputs[0]
                _zero_reads_of_zero_channels(graph, layer, zero[source][keep[source]])
            removed_in = int(removable[layer.inputs[0]].sum()) if layer.inputs else 0
            removed_out = int(removable[layer.output].sum())
            if isinstance(layer, (Conv2d, Dense)) and (removed_in or removed_out):
                graph.notes.append(
                    f"remove_pruned_channels: {layer.name}: outputs {before_out} -> {before_out - removed_out}, "
                    f"inputs {before_in} -> {before_in - removed_in}"
                )
        for name, tensor in graph.tensors.items():
            if tensor.shape:
                tensor.shape = (int(keep[name].sum()), *tensor.shape[1:])
