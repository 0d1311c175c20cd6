"""Marks hls_templates/ as the package fpgaflow.share.hls_templates so it ships in the wheel and is found by importlib.resources."""
