"""Hardware backends' shared Python: tool discovery (Verilator, Yosys), weight-memory packing, cycle model."""
