"""Image references (`name[:tag][@digest]`) with Docker's normalisation.

`busybox` means `docker.io/library/busybox:latest` to every Docker-compatible tool; tags in the
store are kept in that full form, so `busybox`, `library/busybox:latest` and
`docker.io/library/busybox` all name one tag. The grammar is distribution/reference's.
"""

from __future__ import annotations

import re

import attrs

from pybuildkit.errors import ImageError

__all__ = ["Reference", "parse_reference", "DEFAULT_DOMAIN", "DEFAULT_TAG"]

DEFAULT_DOMAIN = "docker.io"
LEGACY_DEFAULT_DOMAIN = "index.docker.io"
OFFICIAL_PREFIX = "library/"
DEFAULT_TAG = "latest"
NAME_MAX = 255

_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_HOST = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])"
_DOMAIN = rf"{_HOST}(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"

_PATH_RE = re.compile(rf"^{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*$")
_DOMAIN_RE = re.compile(rf"^{_DOMAIN}$")
_TAG_RE = re.compile(rf"^{_TAG}$")
_DIGEST_RE = re.compile(rf"^{_DIGEST}$")
_HEX64_RE = re.compile(r"^[a-f0-9]{64}$")


@attrs.frozen
class Reference:
    """A parsed, normalised reference: `domain/path[:tag][@digest]`."""

    domain: str
    path: str
    tag: str | None = None
    digest: str | None = None

    @property
    def name(self) -> str:
        """The full repository name, `docker.io/library/busybox`."""
        return f"{self.domain}/{self.path}"

    def __str__(self) -> str:
        text = self.name
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text

    def familiar_name(self) -> str:
        """The short name Docker shows: `busybox`, `user/app`, `localhost:5000/app`."""
        if self.domain != DEFAULT_DOMAIN:
            return self.name
        if self.path.startswith(OFFICIAL_PREFIX) and "/" not in self.path[len(OFFICIAL_PREFIX) :]:
            return self.path[len(OFFICIAL_PREFIX) :]
        return self.path

    def familiar(self) -> str:
        """`busybox:latest` rather than `docker.io/library/busybox:latest`."""
        text = self.familiar_name()
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text

    def with_tag(self, tag: str) -> Reference:
        if not _TAG_RE.match(tag):
            raise ImageError(f"invalid tag {tag!r}")
        return attrs.evolve(self, tag=tag, digest=None)

    def tagged(self) -> str:
        """`name:tag` (the store's tag key); `latest` when the reference has none."""
        return f"{self.name}:{self.tag or DEFAULT_TAG}"


def _split_domain(name: str) -> tuple[str, str]:
    first, slash, rest = name.partition("/")
    if not slash or ("." not in first and ":" not in first and first != "localhost" and first.lower() == first):
        domain, remainder = DEFAULT_DOMAIN, name
    else:
        domain, remainder = first, rest
    if domain == LEGACY_DEFAULT_DOMAIN:
        domain = DEFAULT_DOMAIN
    if domain == DEFAULT_DOMAIN and "/" not in remainder:
        remainder = OFFICIAL_PREFIX + remainder
    return domain, remainder


def parse_reference(text: str, *, default_tag: bool = True) -> Reference:
    """Parse and normalise `text`; add the `latest` tag when it has neither tag nor digest.

    Raises :class:`ImageError` with Docker's wording for malformed references.
    """
    if not isinstance(text, str) or not text:
        raise ImageError("invalid reference format: empty reference")
    if _HEX64_RE.match(text):
        raise ImageError(f"invalid repository name ({text}), cannot specify 64-byte hexadecimal strings")
    name, at, digest = text.partition("@")
    if at and not _DIGEST_RE.match(digest):
        raise ImageError(f"invalid reference format: bad digest in {text!r}")
    tag: str | None = None
    colon = name.rfind(":")
    if colon > name.rfind("/"):
        name, tag = name[:colon], name[colon + 1 :]
        if not _TAG_RE.match(tag):
            raise ImageError(f"invalid reference format: bad tag {tag!r} in {text!r}")
    domain, path = _split_domain(name)
    if path.lower() != path:
        raise ImageError(f"invalid reference format: repository name ({path}) must be lowercase")
    if not _DOMAIN_RE.match(domain) or not _PATH_RE.match(path):
        raise ImageError(f"invalid reference format: {text!r}")
    if len(f"{domain}/{path}") > NAME_MAX:
        raise ImageError(f"invalid reference format: repository name must not be more than {NAME_MAX} characters")
    if default_tag and tag is None and not at:
        tag = DEFAULT_TAG
    return Reference(domain=domain, path=path, tag=tag, digest=digest or None)
