"""The one exception type for bad user input.

Anything raised as UserError reaches the user as one line (what is wrong, what to do)
and exit code 2; every other exception is a bug in fpgaflow and keeps its traceback.
"""


class UserError(Exception):
    """Bad input: a missing or malformed file, an unsupported op, an impossible option."""

    exit_code = 2
