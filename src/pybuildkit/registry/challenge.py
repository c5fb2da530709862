"""`WWW-Authenticate` challenges (RFC 7235), as registries send them on a 401.

A registry says how to authenticate in this header: `Basic realm="..."` for htpasswd-style
registries, `Bearer realm="https://auth...",service="...",scope="repository:x:pull"` for token
servers. One header may carry several challenges and quoted values may contain commas, so a split
on commas is wrong; this is a small tokenizer that never raises on malformed input: whatever it
cannot read it skips, because a server's typo must surface as "authentication failed", not a crash.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from pybuildkit.oci.frozenmap import FrozenMap, freeze_map

__all__ = ["Challenge", "parse_www_authenticate"]

_SEPARATORS = " \t,="


@attrs.frozen
class Challenge:
    """One challenge: its scheme (lowercased) and parameters (names lowercased)."""

    scheme: str
    params: FrozenMap[str, str] = attrs.field(factory=FrozenMap, converter=freeze_map)
    token68: str | None = None

    @property
    def realm(self) -> str | None:
        return self.params.get("realm")

    @property
    def service(self) -> str | None:
        return self.params.get("service")

    @property
    def scope(self) -> str | None:
        return self.params.get("scope")

    @classmethod
    def of(cls, scheme: str, params: Mapping[str, str] | None = None) -> Challenge:
        return cls(scheme=scheme.lower(), params=dict(params or {}))


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def skip_space(self) -> None:
        while self.peek() in (" ", "\t"):
            self.pos += 1

    def skip_separators(self) -> bool:
        """Skip blanks and commas; True if a comma was among them."""
        comma = False
        while self.peek() and self.peek() in " \t,":
            comma = comma or self.peek() == ","
            self.pos += 1
        return comma

    def token(self) -> str:
        start = self.pos
        while self.peek() and self.peek() not in _SEPARATORS and self.peek() != '"':
            self.pos += 1
        return self.text[start : self.pos]

    def quoted(self) -> str:
        """A quoted-string starting at the opening quote; an unterminated one runs to the end."""
        self.pos += 1
        out = []
        while not self.at_end():
            char = self.text[self.pos]
            self.pos += 1
            if char == "\\" and not self.at_end():
                out.append(self.text[self.pos])
                self.pos += 1
            elif char == '"':
                break
            else:
                out.append(char)
        return "".join(out)

    def value(self) -> str:
        self.skip_space()
        if self.peek() == '"':
            return self.quoted()
        start = self.pos
        while self.peek() and self.peek() not in " \t,":
            self.pos += 1
        return self.text[start : self.pos]


def parse_www_authenticate(header: str) -> tuple[Challenge, ...]:
    """Every challenge in one `WWW-Authenticate` value, in order."""
    scan = _Scanner(header or "")
    challenges: list[Challenge] = []
    scheme: str | None = None
    params: dict[str, str] = {}
    token68: str | None = None

    def flush() -> None:
        if scheme:
            challenges.append(Challenge(scheme=scheme.lower(), params=params, token68=token68))

    while True:
        after_comma = scan.skip_separators()
        if scan.at_end():
            break
        if scan.peek() in '="':
            # Stray `=` or a quoted string where a name belongs: skip one item.
            if scan.peek() == '"':
                scan.quoted()
            else:
                scan.pos += 1
            continue
        word = scan.token()
        scan.skip_space()
        if scan.peek() == "=":
            mark = scan.pos
            while scan.peek() == "=":
                scan.pos += 1
            scan.skip_space()
            if scheme is not None and not after_comma and not params and token68 is None and scan.peek() in ("", ","):
                token68 = word + scan.text[mark : scan.pos].strip()
                continue
            scan.pos = mark + 1
            value = scan.value()
            if scheme is not None:
                params.setdefault(word.lower(), value)
            continue
        # A bare word: the scheme of a new challenge (or a token68 right after a scheme).
        if scheme is not None and not after_comma and not params and token68 is None and scan.peek() in ("", ","):
            token68 = word
            continue
        flush()
        scheme, params, token68 = word, {}, None
    flush()
    return tuple(challenges)
