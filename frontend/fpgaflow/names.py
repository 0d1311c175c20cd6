"""Turn names taken from model files into identifiers that are safe everywhere we use them.

Layer and tensor names from an ONNX or torch model end up as SystemVerilog module and
signal names, C++ identifiers and file names. Model files may contain anything there:
path separators (``/conv1/Conv``), dots, unicode, leading digits, keywords, nothing at
all. Every name is therefore sanitized once, at import, into ``[A-Za-z_][A-Za-z0-9_]*``
that is not a keyword of Verilog, SystemVerilog or C++, has no reserved C++ shape
(leading underscore, double underscore), and is unique case-insensitively (so two files
named after two layers never collide on a case-insensitive file system).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

# IEEE 1800-2017 SystemVerilog keywords (a superset of Verilog-2005's).
_SYSTEMVERILOG_KEYWORDS = """
accept_on alias always always_comb always_ff always_latch and assert assign assume
automatic before begin bind bins binsof bit break buf bufif0 bufif1 byte case casex
casez cell chandle checker class clocking cmos config const constraint context continue
cover covergroup coverpoint cross deassign default defparam design disable dist do edge
else end endcase endchecker endclass endclocking endconfig endfunction endgenerate
endgroup endinterface endmodule endpackage endprimitive endprogram endproperty
endspecify endsequence endtable endtask enum event eventually expect export extends
extern final first_match for force foreach forever fork forkjoin function generate
genvar global highz0 highz1 if iff ifnone ignore_bins illegal_bins implements implies
import incdir include initial inout input inside instance int integer interconnect
interface intersect join join_any join_none large let liblist library local localparam
logic longint macromodule matches medium modport module nand negedge nettype new
nexttime nmos nor noshowcancelled not notif0 notif1 null or output package packed
parameter pmos posedge primitive priority program property protected pull0 pull1
pulldown pullup pulsestyle_ondetect pulsestyle_onevent pure rand randc randcase
randsequence rcmos real realtime ref reg reject_on release repeat restrict return rnmos
rpmos rtran rtranif0 rtranif1 s_always s_eventually s_nexttime s_until s_until_with
scalared sequence shortint shortreal showcancelled signed small soft solve specify
specparam static string strong strong0 strong1 struct super supply0 supply1
sync_accept_on sync_reject_on table tagged task this throughout time timeprecision
timeunit tran tranif0 tranif1 tri tri0 tri1 triand trior trireg type typedef union
unique unique0 unsigned until until_with untyped use uwire var vectored virtual void
wait wait_order wand weak weak0 weak1 while wildcard wire with within wor xnor xor
"""

# C++20 keywords and alternative tokens, plus names the generated HLS code relies on.
_CPP_KEYWORDS = """
alignas alignof and and_eq asm auto bitand bitor bool break case catch char char8_t
char16_t char32_t class compl concept const consteval constexpr constinit const_cast
continue co_await co_return co_yield decltype default delete do double dynamic_cast
else enum explicit export extern false float for friend goto if inline int long mutable
namespace new noexcept not not_eq nullptr operator or or_eq private protected public
register reinterpret_cast requires return short signed sizeof static static_assert
static_cast struct switch template this thread_local throw true try typedef typeid
typename union unsigned using virtual void volatile wchar_t while xor xor_eq
main std ap_fixed ap_ufixed ap_int ap_uint hls
"""

KEYWORDS: frozenset[str] = frozenset((_SYSTEMVERILOG_KEYWORDS + _CPP_KEYWORDS).split())
MAX_LENGTH = 64
_HASH_CHARS = 8
_ILLEGAL = re.compile(r"[^A-Za-z0-9_]+")
_UNDERSCORES = re.compile(r"_{2,}")
LEGAL_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9]*(_[A-Za-z0-9]+)*")


def _base_identifier(name: str) -> str:
    """The legal identifier a name maps to before uniqueness is considered."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    text = _UNDERSCORES.sub("_", _ILLEGAL.sub("_", ascii_name)).strip("_")
    if not text:
        text = "n"
    if text[0].isdigit():
        text = "n_" + text
    if text.lower() in KEYWORDS:
        text += "_n"
    if len(text) > MAX_LENGTH:
        digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:_HASH_CHARS]
        text = text[: MAX_LENGTH - _HASH_CHARS - 1].rstrip("_") + "_" + digest
    return text


def sanitize_identifier(name: str, taken: set[str]) -> str:
    """A unique legal Verilog and C++ identifier for `name`; it is added to `taken`.

    Deterministic: the same names sanitized in the same order give the same results.
    Uniqueness is checked ignoring case against every name already in `taken`.
    """
    base = _base_identifier(name)
    taken_lower = {t.lower() for t in taken}
    candidate = base
    suffix = 2
    while candidate.lower() in taken_lower:
        tail = f"_{suffix}"
        candidate = base[: MAX_LENGTH - len(tail)].rstrip("_") + tail
        suffix += 1
    taken.add(candidate)
    return candidate


def is_legal_identifier(name: str) -> bool:
    """Whether a name already has the shape sanitize_identifier produces."""
    return bool(LEGAL_IDENTIFIER.fullmatch(name)) and name.lower() not in KEYWORDS and len(name) <= MAX_LENGTH
