"""The RTL generator: from a quantized IR to a top module, .mem files and library copies."""
