"""Exports of a quantized graph to other tools' projects (hls4ml)."""
