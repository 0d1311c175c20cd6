"""Structured pruning methods in PyTorch."""
