"""The word-length search: per-layer widths chosen against accuracy and a hardware cost.

It sits above the back ends (its cost is the RTL generator's and resource model's own
figures), so `quant/`, which every back end reads, stays free of back-end imports.
"""
