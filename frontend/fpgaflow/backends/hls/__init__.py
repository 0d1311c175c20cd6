"""The HLS C++ back end: OUT/hls/ from hls_templates/, checked bit for bit by a g++ C simulation."""
