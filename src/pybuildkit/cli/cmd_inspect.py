"""`pybuild inspect REF...`: an image's manifest digest, config and layers, as JSON."""

from __future__ import annotations

import argparse
import json
from typing import Any

__all__ = ["register", "describe"]


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("inspect", help="show an image's manifest, config and layers as JSON")
    parser.add_argument("refs", nargs="+", metavar="REF", help="tag, digest or digest prefix")
    parser.set_defaults(func=run)


def describe(image: Any) -> dict[str, Any]:
    """The JSON object `inspect` prints for one StoredImage."""
    from pybuildkit.oci.reference import parse_reference

    config = image.config
    return {
        "Id": image.digest,
        "RepoTags": [parse_reference(t).familiar() for t in image.tags],
        "MediaType": image.media_type,
        "ConfigDigest": image.config_digest,
        "Created": config.created,
        "Architecture": config.architecture,
        "Os": config.os,
        "Size": image.manifest.config.size + sum(layer.size for layer in image.layers),
        "Config": config.to_json(),
        "Layers": [layer.to_json() for layer in image.layers],
        "Manifest": image.manifest.to_json(),
    }


def run(args: argparse.Namespace) -> int:
    from pybuildkit.store import Store

    with Store() as store:
        out = [describe(store.image(ref)) for ref in args.refs]
    print(json.dumps(out, indent=2, sort_keys=True))
    return 0
