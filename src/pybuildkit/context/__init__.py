"""The build context: `.dockerignore` matching, walking what COPY can see, and content digests.

Layering: `dockerignore` is pure (strings in, verdicts out); `walker`, `ignorefile`, `memo` and
`checksum` touch the filesystem.
"""

from pybuildkit.context.build_context import BuildContext
from pybuildkit.context.checksum import CHECKSUM_VERSION, Checksummer, ChecksumMode, digest_sources, file_digest
from pybuildkit.context.dockerignore import MatchInfo, Pattern, PatternMatcher, parse_ignore_text
from pybuildkit.context.ignorefile import find_ignore_file, load_ignore, read_ignore_patterns
from pybuildkit.context.memo import DigestMemo, MemoRecord
from pybuildkit.context.walker import Entry, Selected, context_path, resolve_in_root, resolve_sources, select, walk

__all__ = [
    "BuildContext",
    "CHECKSUM_VERSION",
    "Checksummer",
    "ChecksumMode",
    "DigestMemo",
    "Entry",
    "MatchInfo",
    "MemoRecord",
    "Pattern",
    "PatternMatcher",
    "Selected",
    "context_path",
    "digest_sources",
    "file_digest",
    "find_ignore_file",
    "load_ignore",
    "parse_ignore_text",
    "read_ignore_patterns",
    "resolve_in_root",
    "resolve_sources",
    "select",
    "walk",
]
