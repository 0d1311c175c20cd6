"""The ready-made loop: prune while training, fix the masks, fine-tune; deterministic per seed.

Half of the epochs (at least one) are the pruning phase, in which the method adds its
regularization and updates its masks after every optimizer step; then `finalize` fixes
the masks and the rest of the epochs fine-tune with the zeros held at zero.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from fpgaflow.prune.base import PruningMethod

Progress = Callable[[str, int, int], None]
"""Called as progress(phase, done, total) after every batch."""


@dataclass(frozen=True)
class Split:
    """Images (N, *input shape) float32 and integer labels (N,)."""

    x: np.ndarray
    y: np.ndarray


def seed_everything(seed: int) -> None:
    """Same seed, same result: torch's global generator, deterministic kernels, one thread.

    One thread also runs these small models faster than two on a shared 2-core machine.
    """
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.set_num_threads(1)


@torch.no_grad()
def evaluate(model: nn.Module, split: Split, batch: int = 512) -> tuple[float, float]:
    """(mean cross-entropy, error rate) of the model on a split, in eval mode."""
    was_training = model.training
    model.eval()
    loss, wrong = 0.0, 0
    for start in range(0, len(split.x), batch):
        logits = model(torch.from_numpy(split.x[start : start + batch]))
        labels = torch.from_numpy(split.y[start : start + batch])
        loss += float(nn.functional.cross_entropy(logits, labels, reduction="sum"))
        wrong += int((logits.argmax(1) != labels).sum())
    model.train(was_training)
    return loss / len(split.x), wrong / len(split.x)


def accuracy(model: nn.Module, split: Split) -> float:
    return 1.0 - evaluate(model, split)[1]


def _shifted(images: torch.Tensor, shift: int, generator: torch.Generator) -> torch.Tensor:
    """The batch rolled by a random offset of at most `shift` pixels along H and W (0: unchanged)."""
    if shift == 0:
        return images
    offsets = torch.randint(-shift, shift + 1, (2,), generator=generator)
    return torch.roll(images, shifts=(int(offsets[0]), int(offsets[1])), dims=(2, 3))


def _epoch(method: PruningMethod, optimizer: torch.optim.Optimizer, split: Split, generator: torch.Generator,
           batch: int, shift: int, on_step: Callable[[], None], phase: str, progress: Progress | None) -> None:
    model = method.model
    model.train()
    order = torch.randperm(len(split.x), generator=generator)
    inputs, labels = torch.from_numpy(split.x), torch.from_numpy(split.y)
    batches = range(0, len(order), batch)
    for done, start in enumerate(batches, 1):
        chosen = order[start : start + batch]
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(_shifted(inputs[chosen], shift, generator)), labels[chosen])
        if not method.finalized:
            loss = loss + method.regularization()
        loss.backward()
        optimizer.step()
        on_step()
        if progress is not None:
            progress(phase, done, len(batches))


def prune_and_finetune(
    method: PruningMethod,
    train: Split,
    epochs: int,
    *,
    lr: float = 1e-3,
    batch: int = 64,
    shift: int = 0,
    progress: Progress | None = None,
    before_finetune_epoch: Callable[[], None] | None = None,
) -> None:
    """Run the pruning phase (epochs // 2, at least 1), finalize, then fine-tune the remaining epochs.

    Adam at `lr` while pruning; the fine-tuning restarts at `lr` and decays it on a
    cosine to zero. `shift` > 0 rolls each image batch by up to that many pixels, the
    augmentation the bundled digits model was trained with.
    """
    generator = torch.Generator().manual_seed(method.seed)
    optimizer = torch.optim.Adam(method.model.parameters(), lr=lr)
    prune_epochs = max(1, epochs // 2)
    steps_per_epoch = -(-len(train.x) // batch)
    total = prune_epochs * steps_per_epoch
    count = 0

    def prune_step() -> None:
        nonlocal count
        count += 1
        method.step(count / total)

    for epoch in range(prune_epochs):
        _epoch(method, optimizer, train, generator, batch, shift, prune_step, f"prune {epoch + 1}/{prune_epochs}", progress)
    method.finalize()
    tune_epochs = max(0, epochs - prune_epochs)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, max(1, tune_epochs))
    for epoch in range(tune_epochs):
        if before_finetune_epoch is not None:  # quantization-aware fine-tuning refreshes its formats here
            before_finetune_epoch()
        _epoch(method, optimizer, train, generator, batch, shift, method.masks.apply, f"fine-tune {epoch + 1}/{tune_epochs}", progress)
        schedule.step()
    method.model.eval()
