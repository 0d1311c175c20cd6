"""sanitize_identifier: every model name becomes a unique legal Verilog and C++ identifier."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from fpgaflow.names import KEYWORDS, MAX_LENGTH, is_legal_identifier, sanitize_identifier

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@given(st.lists(st.text(max_size=80), max_size=30))
def test_any_names_become_unique_legal_identifiers(names: list[str]) -> None:
    taken: set[str] = set()
    results = [sanitize_identifier(name, taken) for name in names]
    assert all(IDENTIFIER.fullmatch(r) and is_legal_identifier(r) for r in results)
    assert all(r.lower() not in KEYWORDS and len(r) <= MAX_LENGTH for r in results)
    assert len({r.lower() for r in results}) == len(results)
    assert taken == set(results)


@given(st.lists(st.text(max_size=40), max_size=20))
def test_sanitizing_is_deterministic(names: list[str]) -> None:
    first: set[str] = set()
    second: set[str] = set()
    assert [sanitize_identifier(n, first) for n in names] == [sanitize_identifier(n, second) for n in names]


def test_typical_model_names() -> None:
    taken: set[str] = set()
    assert sanitize_identifier("/conv1/Conv", taken) == "conv1_Conv"
    assert sanitize_identifier("layer1.0.bn1", taken) == "layer1_0_bn1"
    assert sanitize_identifier("0", taken) == "n_0"
    assert sanitize_identifier("", taken) == "n"
    assert sanitize_identifier("module", taken) == "module_n"
    assert sanitize_identifier("class", taken) == "class_n"
    assert sanitize_identifier("café", taken) == "cafe"
    assert sanitize_identifier("..\\..\\etc/passwd", taken) == "etc_passwd"
    assert sanitize_identifier("__reserved", taken) == "reserved"


def test_collisions_get_numbered_suffixes_case_insensitively() -> None:
    taken: set[str] = set()
    assert [sanitize_identifier(n, taken) for n in ("a.b", "a/b", "A_b", "a_b_2")] == ["a_b", "a_b_2", "A_b_3", "a_b_2_2"]


def test_long_names_are_shortened_with_a_hash_that_keeps_them_apart() -> None:
    taken: set[str] = set()
    long_a, long_b = "x" * 100 + "a", "x" * 100 + "b"
    a, b = sanitize_identifier(long_a, taken), sanitize_identifier(long_b, taken)
    assert len(a) <= MAX_LENGTH and len(b) <= MAX_LENGTH and a != b
    assert not a.endswith("_2") and not b.endswith("_2")
