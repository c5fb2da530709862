"""Go string semantics the Dockerfile format inherited from BuildKit's Go parser.

BuildKit decides what is "space" with Go's `unicode.IsSpace`, trims with `strings.TrimSpace` and
prints its AST with `strconv.Quote`. Python's own notions differ in small ways (`str.isspace`
counts U+001C..U+001F; `repr` quotes differently), and those small ways change which instruction
a line becomes. So the parser uses these helpers, never the Python built-ins, wherever BuildKit
compatibility is at stake.

Text that was not valid UTF-8 reaches us decoded with ``surrogateescape``: each bad byte is a lone
surrogate U+DC80..U+DCFF, which `go_quote` prints back as ``\\xHH`` exactly as Go does.
"""

from __future__ import annotations

__all__ = [
    "GO_SPACE",
    "BYTE_SPACE",
    "is_go_space",
    "go_trim_space",
    "go_trim_left_space",
    "go_lower",
    "go_quote",
    "to_byte_view",
    "from_byte_view",
    "replace_surrogates",
]

#: Runes for which Go's `unicode.IsSpace` is true.
GO_SPACE = frozenset(
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000"
)

#: Bytes (as Latin-1 characters) for which `unicode.IsSpace(rune(b))` is true: BuildKit's flag
#: splitter and HEALTHCHECK splitter look at single bytes, not runes.
BYTE_SPACE = "\t\n\v\f\r \x85\xa0"

_GO_ESCAPES = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
    '"': '\\"',
    "\\": "\\\\",
}


def is_go_space(ch: str) -> bool:
    return ch in GO_SPACE


def go_trim_space(text: str) -> str:
    """`strings.TrimSpace`."""
    start, end = 0, len(text)
    while start < end and text[start] in GO_SPACE:
        start += 1
    while end > start and text[end - 1] in GO_SPACE:
        end -= 1
    return text[start:end]


def go_trim_left_space(text: str) -> str:
    """`strings.TrimLeftFunc(s, unicode.IsSpace)`."""
    start = 0
    while start < len(text) and text[start] in GO_SPACE:
        start += 1
    return text[start:]


def go_lower(text: str) -> str:
    """`strings.ToLower`: one rune in, one rune out (Python may expand U+0130 to two)."""
    if text.isascii():
        return text.lower()
    out = []
    for ch in text:
        low = ch.lower()
        out.append(low if len(low) == 1 else ("i" if ch == "\u0130" else ch))
    return "".join(out)


def go_quote(text: str) -> str:
    """`strconv.Quote`: the quoting BuildKit's AST dump uses for every value."""
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return f'"{text}"'
    out = ['"']
    for ch in text:
        esc = _GO_ESCAPES.get(ch)
        if esc is not None:
            out.append(esc)
            continue
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:
            out.append(f"\\x{code - 0xDC00:02x}")
        elif ch.isprintable():
            out.append(ch)
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        elif 0xD800 <= code <= 0xDFFF:
            out.append("\\ufffd")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


def to_byte_view(text: str) -> str:
    """The UTF-8 bytes of `text`, one Latin-1 character per byte (see `from_byte_view`).

    BuildKit's flag splitter walks bytes, so a multi-byte character can be cut by a "space" byte
    (0x85, 0xA0) and a flag keeps each byte as its own Latin-1 rune. Parsing this view reproduces that.
    """
    if text.isascii():
        return text
    return text.encode("utf-8", "surrogateescape").decode("latin-1")


def from_byte_view(view: str) -> str:
    """Back from `to_byte_view`: bytes to text, bad UTF-8 kept as surrogate escapes."""
    if view.isascii():
        return view
    return view.encode("latin-1").decode("utf-8", "surrogateescape")


def replace_surrogates(text: str) -> str:
    """Text safe to print anywhere: undecodable bytes (surrogate escapes) become U+FFFD."""
    if text.isascii():
        return text
    return "".join("\ufffd" if "\ud800" <= ch <= "\udfff" else ch for ch in text)
