"""`fpgaflow explore`: design-space sweeps (pruning x widths x parallelism) run as Ray tasks; docs/explore.md."""
