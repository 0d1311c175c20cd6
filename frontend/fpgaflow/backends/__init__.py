"""Back ends: each turns the quantized IR and its design record into files (hls: HLS C++)."""
