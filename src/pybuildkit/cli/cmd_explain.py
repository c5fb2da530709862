"""`pybuild explain`: why each step of the last build ran or came from the cache."""

from __future__ import annotations

import argparse
import json
from typing import Any

__all__ = ["register", "format_explanation"]


def format_explanation(record: dict[str, Any]) -> str:
    """One line per step: CACHED, or RAN with the first input that differed."""
    lines = [f"Last build of {record.get('dockerfile', 'Dockerfile')}: {record.get('containerimage.digest', '?')}"]
    for step in record.get("steps", []):
        if step.get("cached"):
            lines.append(f"  CACHED  {step['name']}")
        else:
            reason = step.get("reason") or "ran"
            lines.append(f"  RAN     {step['name']}\n          because {reason}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from pybuildkit.api import open_store
    from pybuildkit.errors import UsageError
    from pybuildkit.execute.build import read_last_build

    with open_store() as store:
        record = read_last_build(store.root)
    if record is None:
        raise UsageError("no build has been recorded in this store yet")
    if args.json:
        print(json.dumps({"dockerfile": record.get("dockerfile"), "steps": record.get("steps", [])}, indent=2, sort_keys=True))
    else:
        print(format_explanation(record))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("explain", help="explain why each step of the last build ran or was cached")
    p.add_argument("--json", action="store_true", help="print the steps as JSON")
    p.set_defaults(func=run)
