"""Reference executors of the IR: float (the oracle for import) and bit-accurate integer (the oracle for the hardware)."""
