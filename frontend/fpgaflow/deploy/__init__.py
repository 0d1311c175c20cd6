"""What `fpgaflow build` writes for a board: the Vivado project (OUT/vivado/) and the PYNQ driver (OUT/driver/)."""
