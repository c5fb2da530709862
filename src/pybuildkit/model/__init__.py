"""Typed, frozen Dockerfile instructions and stages (no I/O).

Entry points: :func:`from_node` (one AST node to one instruction) and :func:`parse_dockerfile`
(a whole document to global ARGs and stages). Helpers the planner re-uses after variable
expansion: :func:`parse_mount`, :func:`parse_device`, :func:`parse_ports`, :func:`validate_chmod`,
:func:`parse_go_duration`.
"""

from pybuildkit.model.chmod import validate_chmod
from pybuildkit.model.devices import parse_device
from pybuildkit.model.durations import parse_go_duration
from pybuildkit.model.flags import FLAG_TABLE, FlagKind, FlagSpec, ParsedFlags, parse_flags
from pybuildkit.model.heredocs import chomp_heredoc_content, heredoc_marker
from pybuildkit.model.instructions import *  # noqa: F403 - the contract classes
from pybuildkit.model.instructions import __all__ as _instruction_names
from pybuildkit.model.mounts import parse_mount
from pybuildkit.model.parse import KEYWORDS, from_node, get_comment, validate_stage_name
from pybuildkit.model.ports import parse_port, parse_ports
from pybuildkit.model.stages import parse_dockerfile

__all__ = [
    *_instruction_names,
    "FLAG_TABLE",
    "FlagKind",
    "FlagSpec",
    "KEYWORDS",
    "ParsedFlags",
    "chomp_heredoc_content",
    "from_node",
    "get_comment",
    "heredoc_marker",
    "parse_device",
    "parse_dockerfile",
    "parse_flags",
    "parse_go_duration",
    "parse_mount",
    "parse_port",
    "parse_ports",
    "validate_chmod",
    "validate_stage_name",
]
