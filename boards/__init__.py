"""Marks boards/ as the package fpgaflow.share.boards so it ships in the wheel and is found by importlib.resources."""
