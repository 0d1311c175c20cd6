"""The backend-neutral core: layer plans, per-op hardware contracts, parallelism, DMA packing, the design record."""
