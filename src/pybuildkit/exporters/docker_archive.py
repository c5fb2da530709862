"""Write images from the store as a docker-archive tar (`docker load`, `skopeo docker-archive:`).

The layout is the classic one every Docker version and skopeo read: `manifest.json`,
`repositories`, `<config-hex>.json`, and one uncompressed `<diff_id-hex>/layer.tar` per layer.
Layers are uncompressed because `docker load` and the format's diff_ids expect plain tars; each is
checked against its diff_id on the way out, so a corrupt store never yields a loadable lie.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import BinaryIO

from pybuildkit.errors import ImageError, PybuildkitError
from pybuildkit.oci.canonical import canonical_json
from pybuildkit.oci.digest import digest_hex
from pybuildkit.oci.reference import parse_reference
from pybuildkit.store.compression import open_uncompressed, sniff_compression
from pybuildkit.store.records import StoredImage
from pybuildkit.store.store import Store
from pybuildkit.exporters.tarball import HashingReader, TarEntry, atomic_output, write_tar

__all__ = ["export_docker_archive"]


def _repo_tags(ref: str, image: StoredImage) -> list[str]:
    """The familiar `name:tag`s to record: the tag `ref` names, else all of the image's tags."""
    with contextlib.suppress(PybuildkitError):
        parsed = parse_reference(ref)
        if not parsed.digest and parsed.tagged() in image.tags:
            return [parse_reference(parsed.tagged()).familiar()]
    return [parse_reference(t).familiar() for t in image.tags]


def export_docker_archive(store: Store, refs: Sequence[str] | str, dest: Path) -> None:
    """Write one or more images to `dest` as a docker-archive tar."""
    if isinstance(refs, str):
        refs = [refs]
    images = [(ref, store.image(ref)) for ref in refs]
    spool = tempfile.TemporaryDirectory(dir=Path(dest).parent if Path(dest).parent.is_dir() else None, prefix=".pybuild-save-")
    with spool as spool_dir:
        entries: list[TarEntry] = []
        manifest_json: list[dict[str, object]] = []
        repositories: dict[str, dict[str, str]] = {}
        layer_files: set[str] = set()
        for ref, image in images:
            diff_ids = image.config.rootfs.diff_ids
            if len(diff_ids) != len(image.manifest.layers):
                raise ImageError(f"image {image.digest}: {len(image.manifest.layers)} layers but {len(diff_ids)} diff_ids")
            config_name = f"{digest_hex(image.config_digest)}.json"
            entries.append(TarEntry(config_name, image.manifest.config.size, _blob_opener(store, image.config_digest)))
            layer_names = []
            for layer, diff_id in zip(image.manifest.layers, diff_ids):
                hex_id = digest_hex(diff_id)
                name = f"{hex_id}/layer.tar"
                layer_names.append(name)
                if hex_id in layer_files:
                    continue
                entries.append(TarEntry(f"{hex_id}/"))
                entries.append(TarEntry(f"{hex_id}/VERSION", 3, _bytes_opener(b"1.0")))
                entries.append(_layer_entry(store, layer.digest, diff_id, name, Path(spool_dir)))
                layer_files.add(hex_id)
            repo_tags = _repo_tags(ref, image)
            same = next((m for m in manifest_json if m["Config"] == config_name and m["Layers"] == layer_names), None)
            if same is not None:
                # One entry per image, as `docker save a b` writes it when both name one image.
                same["RepoTags"] = sorted({*same["RepoTags"], *repo_tags})  # type: ignore[misc]
            else:
                manifest_json.append({"Config": config_name, "RepoTags": repo_tags, "Layers": layer_names})
            if layer_names:
                for repo_tag in repo_tags:
                    parsed = parse_reference(repo_tag)
                    repositories.setdefault(parsed.familiar_name(), {})[parsed.tag or "latest"] = layer_names[-1].split("/")[0]
        manifest_bytes = canonical_json(manifest_json)
        entries.append(TarEntry("manifest.json", len(manifest_bytes), _bytes_opener(manifest_bytes)))
        if repositories:
            repo_bytes = canonical_json(repositories)
            entries.append(TarEntry("repositories", len(repo_bytes), _bytes_opener(repo_bytes)))
        expected = {e.name: d for e, d in _expectations(images)}

        def verify(entry: TarEntry, reader: HashingReader) -> None:
            want = expected.get(entry.name)
            if want is not None and reader.digest != want:
                raise ImageError(f"{entry.name} does not match its digest {want}; run `pybuild store check`")

        with atomic_output(Path(dest)) as out:
            write_tar(out, entries, verify=verify)


def _expectations(images: list[tuple[str, StoredImage]]) -> list[tuple[TarEntry, str]]:
    out = []
    for _, image in images:
        out.append((TarEntry(f"{digest_hex(image.config_digest)}.json"), image.config_digest))
        for diff_id in image.config.rootfs.diff_ids:
            out.append((TarEntry(f"{digest_hex(diff_id)}/layer.tar"), diff_id))
    return out


def _blob_opener(store: Store, digest: str) -> Callable[[], BinaryIO]:
    return lambda: store.open_blob(digest)


def _bytes_opener(data: bytes) -> Callable[[], BinaryIO]:
    return lambda: io.BytesIO(data)


def _layer_entry(store: Store, digest: str, diff_id: str, name: str, spool: Path) -> TarEntry:
    """An uncompressed layer: the blob itself when it is a plain tar, else a spooled copy (the tar
    header needs the size before the bytes)."""
    with store.open_blob(digest) as raw:
        kind = sniff_compression(raw.read(4))
    if kind == "none":
        return TarEntry(name, store.blob_path(digest).stat().st_size, _blob_opener(store, digest))
    target = spool / f"{digest_hex(diff_id)}.tar"
    try:
        with store.open_blob(digest) as raw, open_uncompressed(raw) as stream, open(target, "wb") as out:
            shutil.copyfileobj(stream, out, 1 << 20)
    except (OSError, EOFError, ValueError) as exc:
        raise ImageError(f"layer {digest} cannot be decompressed: {exc}") from None
    size = os.path.getsize(target)
    return TarEntry(name, size, lambda: open(target, "rb"))
