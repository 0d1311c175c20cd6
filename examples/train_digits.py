"""Train the bundled example: a small CNN on scikit-learn's digits set (offline, CPU, about a minute).

Writes, next to this script:
  digits_cnn.onnx       the trained float model (opset 13, dynamic batch, input "image" (N, 1, 8, 8))
  digits_train.npz      x: float32 (N, 1, 8, 8) in [0, 1], y: int64 labels  (1347 images)
  digits_test.npz       the held-out 450 images, same layout

Rerun: python examples/train_digits.py   (deterministic for a given --seed)
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn

HERE = Path(__file__).resolve().parent
TEST_IMAGES = 450


class DigitsCNN(nn.Module):
    """Three 3x3 conv layers with ReLU (one with batch norm), two 2x2 max pools, one dense layer."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(16, 32, 3, padding=1, bias=False),
            nn.BatchNorm2d(32),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.classifier = nn.Linear(32 * 2 * 2, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.features(x), 1))


def load_split(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The digits images scaled to [0, 1] as NCHW float32, split 1347 / 450, stratified."""
    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[:, None, :, :]
    y = digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=TEST_IMAGES, stratify=y, random_state=seed
    )
    return x_train, y_train, x_test, y_test


def train(model: nn.Module, x: np.ndarray, y: np.ndarray, epochs: int, seed: int) -> None:
    """Adam with a cosine schedule and small random shifts of the images as augmentation."""
    generator = torch.Generator().manual_seed(seed)
    inputs, labels = torch.from_numpy(x), torch.from_numpy(y)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, epochs)
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(epochs):
        model.train()
        order = torch.randperm(len(inputs), generator=generator)
        for start in range(0, len(order), 64):
            batch = order[start : start + 64]
            shift = torch.randint(-1, 2, (2,), generator=generator)
            images = torch.roll(inputs[batch], shifts=(int(shift[0]), int(shift[1])), dims=(2, 3))
            optimizer.zero_grad()
            loss_fn(model(images), labels[batch]).backward()
            optimizer.step()
        schedule.step()


def accuracy(model: nn.Module, x: np.ndarray, y: np.ndarray) -> float:
    model.eval()
    with torch.no_grad():
        predicted = model(torch.from_numpy(x)).argmax(1).numpy()
    return float((predicted == y).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    torch.set_num_threads(2)
    x_train, y_train, x_test, y_test = load_split(args.seed)
    model = DigitsCNN()
    train(model, x_train, y_train, args.epochs, args.seed)
    test_accuracy = accuracy(model, x_test, y_test)

    args.out.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out / "digits_train.npz", x=x_train, y=y_train)
    np.savez_compressed(args.out / "digits_test.npz", x=x_test, y=y_test)
    model.eval()
    torch.onnx.export(
        model,
        (torch.from_numpy(x_test[:1]),),
        str(args.out / "digits_cnn.onnx"),
        input_names=["image"],
        output_names=["logits"],
        dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}},
        opset_version=13,
        dynamo=False,
    )
    print(f"train images {len(x_train)}, test images {len(x_test)}, test accuracy {test_accuracy:.4f}")


if __name__ == "__main__":
    main()
