"""Marks rtl/ as the package fpgaflow.share.rtl so it ships in the wheel and is found by importlib.resources."""
