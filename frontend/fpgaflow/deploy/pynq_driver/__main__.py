"""`python -m <driver> --selftest`: run the golden frames the build verified and say bit-exact or the first difference."""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from .accelerator import HERE, Accelerator

GOLDEN_FILE = "golden.json"


def first_difference(got: np.ndarray, want: np.ndarray) -> str:
    """The first frame and output element where two code arrays differ, or '' when equal."""
    for frame, (g, w) in enumerate(zip(got, want)):
        if not np.array_equal(g, w):
            where = tuple(int(i) for i in np.argwhere(g != w)[0])
            return f"frame {frame}, element {where}: board code {int(g[where])}, expected {int(w[where])}"
    return ""


def selftest(accelerator: Accelerator) -> int:
    """Send the shipped golden input codes twice (a second call must work too); 0 when bit-exact."""
    golden = json.loads((HERE / GOLDEN_FILE).read_text())
    inputs = np.array(golden["input_codes"], dtype=np.int64).reshape(-1, *accelerator.input_shape)
    expected = np.array(golden["output_codes"], dtype=np.int64).reshape(-1, *accelerator.output_shape)
    for attempt in (1, 2):
        difference = first_difference(accelerator.predict_codes(inputs), expected)
        if difference:
            print(f"selftest call {attempt}: MISMATCH at {difference}")
            return 1
    source = "verified in simulation" if golden["simulated"] else "from the reference (the build ran no --verify)"
    print(f"selftest: {len(inputs)} golden frames bit-exact on two calls ({source})")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m {__package__}", description=__doc__)
    parser.add_argument("--selftest", action="store_true", help="run the golden frames and compare bit for bit")
    parser.add_argument("--bitstream", help="the .bit file (default: the one beside this driver)")
    args = parser.parse_args(argv)
    if not args.selftest:
        parser.print_help()
        return 0
    return selftest(Accelerator(args.bitstream))


if __name__ == "__main__":
    sys.exit(main())
