"""Back ends: each turns a planned design (fpgaflow.flow) into the files of one hardware language (rtl: SystemVerilog, hls: HLS C++)."""
