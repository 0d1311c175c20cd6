"""Graph passes: each module holds one transformation of the IR."""
