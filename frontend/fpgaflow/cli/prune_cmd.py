"""`fpgaflow prune`: prune and fine-tune a model with one of the structured methods, write ONNX."""

from __future__ import annotations

import argparse
import inspect
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from fpgaflow.errors import UserError
from fpgaflow.prune.methods import METHODS, method_class
from fpgaflow.prune.run import prune_files
from fpgaflow.prune.structured import GRANULARITIES
from fpgaflow.quant.widths import check_width, read_widths_config
from fpgaflow.flow.parallelism import read_parallelism_config


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "prune",
        help="prune a model (structured methods) and fine-tune it",
        description="Prune MODEL to remove a fraction T of its convolution MACs, fine-tune, and write ONNX. See docs/pruning.md.",
    )
    parser.add_argument("model", type=Path, help="model.onnx, or a .pt state dict (loaded with weights_only=True) with --arch")
    parser.add_argument("--method", required=True, help=f"one of {', '.join(METHODS)}")
    parser.add_argument("--target", type=float, required=True, help="fraction of conv MACs to remove, in (0, 1)")
    parser.add_argument("--data", type=Path, required=True, help="training data .npz with x (N, C, H, W) float and y (N,) int labels")
    parser.add_argument("--val", type=Path, help="validation data .npz (default: the training data)")
    parser.add_argument("--epochs", type=int, default=20, help="epochs in all: half prune, half fine-tune (default 20)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate (default 1e-3)")
    parser.add_argument("--shift", type=int, default=0, help="augment: roll images by up to this many pixels (default 0)")
    parser.add_argument("--granularity", default="channel", help=f"for --method structured: {'|'.join(GRANULARITIES)}")
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                        help="a method option, repeatable, e.g. --option cost=cycles --option parallelism=4 for taper (docs/pruning.md)")
    parser.add_argument("--bits", type=int,
                        help="fine-tune quantization-aware at this width (2..16; the build's --bits; docs/quantization.md)")
    parser.add_argument("--widths", type=Path, metavar="Q.yaml",
                        help="per-layer widths for the quantization-aware fine-tuning (the build --config file, e.g. from fpgaflow quantize)")
    parser.add_argument("--arch", type=Path, help="ONNX architecture for a .pt state dict")
    parser.add_argument("--out", type=Path, required=True, help="pruned model, .onnx")
    parser.set_defaults(handler=run)


def _value(text: str) -> int | float | str:
    """An option value: an int or a float where it reads as one, else the text."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def method_options(method: str, pairs: list[str]) -> dict[str, Any]:
    """The --option KEY=VALUE pairs as keyword arguments of the method's class, checked against its signature."""
    cls = method_class(method)
    own_flags = {"seed", "evaluate", "granularity"}
    parameters = inspect.signature(cls.__init__).parameters.items()
    accepted = [name for name, p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY and name not in own_flags]
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key:
            raise UserError(f"--option {pair!r} is not KEY=VALUE; write e.g. --option cost=cycles")
        if key not in accepted:
            raise UserError(f"method {method} has no option {key!r}; its options are {', '.join(accepted) or 'none'}")
        options[key] = _value(text)
    return options


def run(args: argparse.Namespace) -> int:
    if not 0.0 < args.target < 1.0:
        raise UserError(f"--target {args.target} is outside (0, 1); give the fraction of conv MACs to remove, e.g. 0.75")
    if args.epochs < 1:
        raise UserError(f"--epochs {args.epochs} must be at least 1")
    if args.out.suffix.lower() != ".onnx":
        raise UserError(f"--out {args.out} must end in .onnx")
    if args.widths is not None and args.bits is None:
        raise UserError("--widths needs --bits (the width of every layer the file does not name)")
    bits = check_width(args.bits, "--bits") if args.bits is not None else None
    if args.widths is not None:
        read_parallelism_config(args.widths)  # checks the file's YAML and its `layers:` mapping
    widths = read_widths_config(args.widths) if args.widths is not None else None
    options = method_options(args.method, args.option)
    if args.method == "structured":
        options["granularity"] = args.granularity
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, transient=True) as bars:
        tasks: dict[str, int] = {}

        def progress(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = bars.add_task(phase, total=total)
            bars.update(tasks[phase], completed=done)

        result = prune_files(
            args.model, args.method, args.target, args.data, args.out,
            val=args.val, arch=args.arch, epochs=args.epochs, seed=args.seed, lr=args.lr, shift=args.shift, options=options, progress=progress,
            bits=bits, widths=widths,
        )
    print(result.final_line(args.method, args.out))
    return 0
