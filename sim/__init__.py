"""Marks sim/ as the package fpgaflow.share.sim so it ships in the wheel and is found by importlib.resources."""
