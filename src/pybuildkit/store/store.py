"""The local image store: content-addressed blobs plus SQLite records, behind one object.

Images are identified by their manifest digest. Tags map a normalised reference
(`docker.io/library/busybox:latest`) to one. Cache records file a build step's outputs under its
cache key. Deleting an image (or a tag, or a cache record) only drops records: blobs become garbage
that `gc()` collects, under an exclusive lock, never touching what any record still needs.
"""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

from pybuildkit.errors import ImageError, PybuildkitError, StoreError
from pybuildkit.oci import mediatypes as mt
from pybuildkit.oci.config import Image
from pybuildkit.oci.descriptor import Descriptor
from pybuildkit.oci.digest import is_digest, is_hex_prefix
from pybuildkit.oci.manifest import Manifest
from pybuildkit.oci.reference import parse_reference
from pybuildkit.store.blobs import OCTET_STREAM, BlobStore, Ingest
from pybuildkit.store.compression import open_uncompressed
from pybuildkit.store.db import Database
from pybuildkit.store.lock import file_lock, shared_held_by_this_thread
from pybuildkit.store.paths import DB_FILE, LOCK_FILE, default_root
from pybuildkit.store.records import CacheEntry, CacheRecord, CheckReport, GCReport, ImageSummary, RemoveResult, StoredImage

__all__ = ["Store", "normalise_tag"]

DEFAULT_GC_GRACE_SECONDS = 300.0
MAX_JSON_BLOB = 16 << 20


def normalise_tag(name: str) -> str:
    """`busybox` -> `docker.io/library/busybox:latest`; refuses digests (a tag names, not pins)."""
    ref = parse_reference(name)
    if ref.digest:
        raise StoreError(f"cannot use a digest reference as a tag: {name!r}")
    return ref.tagged()


def _sql_error(exc: sqlite3.Error) -> StoreError:
    return StoreError(f"store database error: {exc}")


class Store:
    """An image store rooted at `root` (default: :func:`default_root`). Safe to share between
    threads and between processes using the same root."""

    def __init__(self, root: Path | str | None = None) -> None:
        self.root = Path(root) if root is not None else default_root()
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create store root {self.root}: {exc.strerror}") from None
        self.lock_path = self.root / LOCK_FILE
        self.blobs = BlobStore(self.root, self.lock_path)
        self._db = Database(self.root / DB_FILE)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- blobs ---------------------------------------------------------------------------------

    def open_ingest(self) -> Ingest:
        """Start writing a blob: `write()` chunks, then `commit(expected_digest=None)`."""
        return self.blobs.open_ingest()

    def put_bytes(self, data: bytes, *, media_type: str = OCTET_STREAM, expected_digest: str | None = None) -> Descriptor:
        return self.blobs.put_bytes(data, media_type=media_type, expected_digest=expected_digest)

    def put_stream(
        self,
        source: BinaryIO,
        *,
        media_type: str = OCTET_STREAM,
        expected_digest: str | None = None,
        expected_size: int | None = None,
    ) -> Descriptor:
        return self.blobs.put_stream(
            source, media_type=media_type, expected_digest=expected_digest, expected_size=expected_size
        )

    def blob_path(self, digest: str) -> Path:
        return self.blobs.blob_path(digest)

    def has_blob(self, digest: str) -> bool:
        return self.blobs.has_blob(digest)

    def open_blob(self, digest: str) -> BinaryIO:
        return self.blobs.open_blob(digest)

    def read_blob(self, digest: str, *, max_size: int = MAX_JSON_BLOB) -> bytes:
        return self.blobs.read_blob(digest, max_size=max_size)

    @contextlib.contextmanager
    def lease(self) -> Iterator[None]:
        """Hold the store lock shared: GC waits until the block ends. Wrap a whole build in it, so
        blobs written before their records exist are never collected."""
        with file_lock(self.lock_path, exclusive=False):
            yield

    # -- images --------------------------------------------------------------------------------

    def put_image(
        self,
        config: Image | bytes,
        layers: Sequence[Descriptor],
        *,
        tags: Iterable[str] = (),
        annotations: dict[str, str] | None = None,
        config_media_type: str = mt.OCI_CONFIG,
    ) -> StoredImage:
        """Write the config and an OCI manifest over layer blobs already in the store, record the
        image and set `tags`. The manifest is canonical JSON: same inputs, same image digest."""
        config_bytes = config.to_bytes() if isinstance(config, Image) else bytes(config)
        parsed = config if isinstance(config, Image) else Image.from_json(config_bytes)
        if len(parsed.rootfs.diff_ids) != len(layers):
            raise ImageError(
                f"image config lists {len(parsed.rootfs.diff_ids)} diff_ids but {len(layers)} layers were given"
            )
        with self.lease():
            config_desc = self.put_bytes(config_bytes, media_type=config_media_type)
            manifest = Manifest(config=config_desc, layers=tuple(layers), annotations=annotations or {})
            return self._add_manifest(manifest.to_bytes(), manifest, parsed, tags)

    def add_manifest(self, data: bytes, *, tags: Iterable[str] = ()) -> StoredImage:
        """Record an image from manifest bytes kept verbatim (their digest is the image's
        identity); its config and layers must already be in the store."""
        manifest = Manifest.from_json(data)
        with self.lease():
            config = Image.from_json(self._verified_read(manifest.config))
            return self._add_manifest(bytes(data), manifest, config, tags)

    def _verified_read(self, desc: Descriptor) -> bytes:
        if not self.has_blob(desc.digest):
            raise StoreError(f"blob {desc.digest} ({desc.media_type}) is not in the store")
        data = self.read_blob(desc.digest)
        if len(data) != desc.size:
            raise ImageError(f"blob {desc.digest}: size {len(data)} does not match descriptor size {desc.size}")
        return data

    def _add_manifest(self, data: bytes, manifest: Manifest, config: Image, tags: Iterable[str]) -> StoredImage:
        for layer in manifest.layers:
            if not self.has_blob(layer.digest):
                raise StoreError(f"layer blob {layer.digest} is not in the store")
            size = self.blob_path(layer.digest).stat().st_size
            if size != layer.size:
                raise ImageError(f"layer blob {layer.digest}: size {size} does not match descriptor size {layer.size}")
        names = [normalise_tag(t) for t in tags]
        media_type = manifest.media_type or mt.OCI_MANIFEST
        desc = self.put_bytes(data, media_type=media_type)
        total = manifest.config.size + sum(layer.size for layer in manifest.layers)
        now = time.time()
        try:
            with self._db.write() as conn:
                conn.execute(
                    "INSERT OR IGNORE INTO images (digest, media_type, size, config_digest, created, total_size, added)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (desc.digest, media_type, desc.size, manifest.config.digest, config.created, total, now),
                )
                conn.executemany(
                    "INSERT OR IGNORE INTO image_blobs (image, digest) VALUES (?, ?)",
                    [(desc.digest, d) for d in {manifest.config.digest, *(layer.digest for layer in manifest.layers)}],
                )
                conn.executemany(
                    "INSERT INTO tags (name, digest, updated) VALUES (?, ?, ?)"
                    " ON CONFLICT(name) DO UPDATE SET digest = excluded.digest, updated = excluded.updated",
                    [(name, desc.digest, now) for name in names],
                )
                tag_rows = conn.execute("SELECT name FROM tags WHERE digest = ? ORDER BY name", (desc.digest,)).fetchall()
        except sqlite3.Error as exc:
            raise _sql_error(exc) from None
        return StoredImage(
            digest=desc.digest,
            media_type=media_type,
            size=desc.size,
            manifest=manifest,
            config=config,
            tags=tuple(row[0] for row in tag_rows),
        )

    def resolve(self, ref: str) -> str:
        """The manifest digest `ref` names: a tag (`busybox`, `repo:tag`, full name), a
        `name@digest`, a manifest or config digest, or an unambiguous hex prefix of either."""
        ref = ref.strip()
        if not ref:
            raise StoreError("empty image reference")
        try:
            conn = self._db.read()
            if ref.startswith("sha256:") and is_digest(ref):
                if conn.execute("SELECT 1 FROM images WHERE digest = ?", (ref,)).fetchone():
                    return ref
                return self._unique(conn, "SELECT digest FROM images WHERE config_digest = ?", (ref,), ref)
            parsed = None
            with contextlib.suppress(ImageError):
                parsed = parse_reference(ref)
            if parsed is not None and parsed.digest:
                if conn.execute("SELECT 1 FROM images WHERE digest = ?", (parsed.digest,)).fetchone():
                    return parsed.digest
                raise StoreError(f"no such image: {ref}")
            if parsed is not None:
                row = conn.execute("SELECT digest FROM tags WHERE name = ?", (parsed.tagged(),)).fetchone()
                if row:
                    return str(row[0])
            if is_hex_prefix(ref):
                hex_prefix = ref.removeprefix("sha256:")
                pattern = f"sha256:{hex_prefix}%"
                return self._unique(
                    conn,
                    "SELECT DISTINCT digest FROM images WHERE digest LIKE ? OR config_digest LIKE ?",
                    (pattern, pattern),
                    ref,
                )
        except sqlite3.Error as exc:
            raise _sql_error(exc) from None
        if parsed is None:
            raise StoreError(f"invalid image reference {ref!r}")
        raise StoreError(f"no such image: {ref}", hint="`pybuild images` lists what the store holds")

    @staticmethod
    def _unique(conn: sqlite3.Connection, sql: str, params: tuple[str, ...], ref: str) -> str:
        rows = conn.execute(sql, params).fetchall()
        if not rows:
            raise StoreError(f"no such image: {ref}", hint="`pybuild images` lists what the store holds")
        if len(rows) > 1:
            raise StoreError(f"ambiguous image reference {ref!r}: {len(rows)} images match", hint="give more digits")
        return str(rows[0][0])

    def image(self, ref: str) -> StoredImage:
        """The image `ref` names, with its parsed manifest and config."""
        digest = self.resolve(ref)
        try:
            row = self._db.read().execute("SELECT media_type, size FROM images WHERE digest = ?", (digest,)).fetchone()
        except sqlite3.Error as exc:
            raise _sql_error(exc) from None
        if row is None:
            raise StoreError(f"no such image: {ref}")
        manifest = Manifest.from_json(self.read_blob(digest))
        config = Image.from_json(self.read_blob(manifest.config.digest))
        return StoredImage(
            digest=digest,
            media_type=str(row[0]),
            size=int(row[1]),
            manifest=manifest,
            config=config,
            tags=self.tags(digest),
        )

    def has_image(self, ref: str) -> bool:
        try:
            self.resolve(ref)
        except PybuildkitError:
            return False
        return True

    def tags(self, digest: str | None = None) -> tuple[str, ...]:
        """Every tag (full names), or those pointing at `digest`."""
        try:
            conn = self._db.read()
            if digest is None:
                rows = conn.execute("SELECT name FROM tags ORDER BY name").fetchall()
            else:
                rows = conn.execute("SELECT name FROM tags WHERE digest = ? ORDER BY name", (digest,)).fetchall()
        except sqlite3.Error as exc:
            raise _sql_error(exc) from None
        return tuple(str(row[0]) for row in rows)

    def images(self) -> list[ImageSummary]:
        """Every image, newest first."""
        try:
            with self._db.snapshot() as conn:
                rows = conn.execute(
                    "SELECT digest, config_digest, created, total_size FROM images ORDER BY added DESC, digest"
                ).fetchall()
                tag_rows = conn.execute("SELECT digest, name FROM tags ORDER BY name").fetchall()
        except sqlite3.Error as exc:
            raise _sql_error(exc) from None
        by_image: dict[str, list[str]] = {}
        for digest, name in tag_rows:
            by_image.setdefault(digest, []).append(name)
        return [
            ImageSummary(digest=d, config_digest=c, created=created, size=size, tags=tuple(by_image.get(d, ())))
            for d, c, created, size in rows
        ]

    def tag(self, ref: str, name: str) -> str:
        """Point tag `name` at the image `ref` names; returns the normalised tag."""
        digest = self.resolve(ref)
        full = normalise_tag(name)
        try:
            with self._db.write() as conn:
                if not conn.execute("SELECT 1 FROM images WHERE digest = ?", (digest,)).fetchone():
                    raise StoreError(f"no such image: {ref}")
                conn.execute(
                    "INSERT INTO tags (name, digest, updated) VALUES (?, ?, ?)"
                    " ON CONFLICT(name) DO UPDATE SET digest = excluded.digest, updated = excluded.updated",
                    (full, digest, time.time()),
                )
        except sqlite3.Error as exc:
            raise _sql_error(exc) from None
        return full

    def untag(self, name: str) -> str:
        """Remove one tag; returns the digest it pointed at. The image record stays."""
        full = normalise_tag(name)
        try:
            with self._db.write() as conn:
                row = conn.execute("SELECT digest FROM tags WHERE name = ?", (full,)).fetchone()
                if row is None:
                    raise StoreError(f"no such tag: {name}")
                conn.execute("DELETE FROM tags WHERE name = ?", (full,))
        except sqlite3.Error as exc:
            raise _sql_error(exc) from None
        return str(row[0])

    def remove_image(self, ref: str, *, force: bool = False) -> RemoveResult:
        """`rmi`, as Docker does it: by tag, drop that tag and the image once no tag is left; by
        digest, drop the image and its tags (refused if several tags point at it, unless `force`).
        Blobs stay until `gc()`."""
        digest = self.resolve(ref)
        by_tag: str | None = None
        with contextlib.suppress(ImageError):
            parsed = parse_reference(ref)
            if not parsed.digest and parsed.tagged() in self.tags(digest):
                by_tag = parsed.tagged()
        try:
            with self._db.write() as conn:
                tags = [str(r[0]) for r in conn.execute("SELECT name FROM tags WHERE digest = ?", (digest,))]
                if by_tag is not None and not force:
                    conn.execute("DELETE FROM tags WHERE name = ?", (by_tag,))
                    untagged = [by_tag]
                    if len(tags) > 1:
                        return RemoveResult(untagged=tuple(untagged))
                else:
                    if len(tags) > 1 and not force:
                        raise StoreError(
                            f"image {digest[:19]} is referenced by {len(tags)} tags: {', '.join(sorted(tags))}",
                            hint="remove it by tag, or use --force",
                        )
                    conn.execute("DELETE FROM tags WHERE digest = ?", (digest,))
                    untagged = sorted(tags)
                conn.execute("DELETE FROM image_blobs WHERE image = ?", (digest,))
                conn.execute("DELETE FROM images WHERE digest = ?", (digest,))
        except sqlite3.Error as exc:
            raise _sql_error(exc) from None
        return RemoveResult(untagged=tuple(untagged), deleted=(digest,))

    # -- cache records -------------------------------------------------------------------------

    def put_cache(self, record: CacheRecord) -> None:
        """File (or replace) a cache record; every blob it references must already be stored."""
        try:
            with self.lease():
                self._put_cache(record)
        except sqlite3.Error as exc:
            raise _sql_error(exc) from None

    def _put_cache(self, record: CacheRecord) -> None:
        for digest in record.refs():
            if not self.has_blob(digest):
                raise StoreError(f"cache record {record.key!r} references missing blob {digest}")
        now = time.time()
        with self._db.write() as conn:
            conn.execute("DELETE FROM cache_blobs WHERE key = ?", (record.key,))
            conn.execute(
                "INSERT INTO cache (key, value, created, last_used) VALUES (?, ?, ?, ?)"
                " ON CONFLICT(key) DO UPDATE SET value = excluded.value, last_used = excluded.last_used",
                (record.key, record.to_bytes().decode("utf-8"), now, now),
            )
            conn.executemany(
                "INSERT OR IGNORE INTO cache_blobs (key, digest) VALUES (?, ?)",
                [(record.key, d) for d in record.refs()],
            )

    def get_cache(self, key: str) -> CacheRecord | None:
        """The record under `key`, or None; a record whose blobs are gone counts as absent."""
        try:
            row = self._db.read().execute("SELECT value FROM cache WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error as exc:
            raise _sql_error(exc) from None
        if row is None:
            return None
        record = CacheRecord.from_bytes(key, row[0])
        if not all(self.has_blob(d) for d in record.refs()):
            return None
        with contextlib.suppress(sqlite3.Error, StoreError):
            with self._db.write() as conn:
                conn.execute("UPDATE cache SET last_used = ? WHERE key = ?", (time.time(), key))
        return record

    def delete_cache(self, key: str) -> bool:
        try:
            with self._db.write() as conn:
                return conn.execute("DELETE FROM cache WHERE key = ?", (key,)).rowcount > 0
        except sqlite3.Error as exc:
            raise _sql_error(exc) from None

    def prune_cache(self, *, unused_for_seconds: float = 0.0) -> int:
        """Drop cache records not used for `unused_for_seconds` (0: all); their blobs become garbage
        for `gc()`. Returns how many records went."""
        cutoff = time.time() - unused_for_seconds
        try:
            with self._db.write() as conn:
                return conn.execute("DELETE FROM cache WHERE last_used <= ?", (cutoff,)).rowcount
        except sqlite3.Error as exc:
            raise _sql_error(exc) from None

    def cache_keys(self) -> tuple[str, ...]:
        try:
            rows = self._db.read().execute("SELECT key FROM cache ORDER BY key").fetchall()
        except sqlite3.Error as exc:
            raise _sql_error(exc) from None
        return tuple(str(r[0]) for r in rows)

    def cache_entries(self) -> tuple[CacheEntry, ...]:
        """Every cache record's times and blobs, least recently used first, read without counting
        as a use (unlike `get_cache`), so `pybuild cache du`/`prune` do not refresh what they judge."""
        try:
            with self._db.snapshot() as conn:
                rows = conn.execute("SELECT key, created, last_used, value FROM cache ORDER BY last_used, key").fetchall()
                refs = conn.execute("SELECT key, digest FROM cache_blobs ORDER BY key, digest").fetchall()
        except sqlite3.Error as exc:
            raise _sql_error(exc) from None
        blobs: dict[str, list[str]] = {}
        for key, digest in refs:
            blobs.setdefault(str(key), []).append(str(digest))
        return tuple(
            CacheEntry(
                key=str(k), created=float(c), last_used=float(u), blobs=tuple(blobs.get(str(k), ())),
                diff_id=CacheRecord.from_bytes(str(k), v).diff_id,
            )
            for k, c, u, v in rows
        )

    def image_blobs(self) -> frozenset[str]:
        """Every blob digest some image record needs (manifests, configs, layers)."""
        try:
            with self._db.snapshot() as conn:
                live = {str(r[0]) for r in conn.execute("SELECT digest FROM images")}
                live.update(str(r[0]) for r in conn.execute("SELECT digest FROM image_blobs"))
        except sqlite3.Error as exc:
            raise _sql_error(exc) from None
        return frozenset(live)

    # -- maintenance ---------------------------------------------------------------------------

    def _live_blobs(self) -> set[str]:
        with self._db.snapshot() as conn:
            live = {str(r[0]) for r in conn.execute("SELECT digest FROM images")}
            live.update(str(r[0]) for r in conn.execute("SELECT digest FROM image_blobs"))
            live.update(str(r[0]) for r in conn.execute("SELECT digest FROM cache_blobs"))
        return live

    def gc(self, *, grace_seconds: float = DEFAULT_GC_GRACE_SECONDS) -> GCReport:
        """Delete blobs no image or cache record needs, older than `grace_seconds` (so a blob
        written by a build that holds no lease is not taken before its record lands), and the temp
        files of crashed ingests. Holds the store lock exclusively, so it waits for every lease
        and open ingest, in any process; calling it inside this thread's own lease is an error
        (it would wait for itself)."""
        if shared_held_by_this_thread(self.lock_path):
            raise StoreError("gc() called while this thread holds a lease or an open ingest on the store")
        with file_lock(self.lock_path, exclusive=True):
            try:
                live = self._live_blobs()
            except sqlite3.Error as exc:
                raise _sql_error(exc) from None
            removed: list[str] = []
            freed = kept = 0
            for digest in self.blobs.iter_digests():
                if digest in live or self.blobs.age(digest) < grace_seconds:
                    kept += 1
                    continue
                freed += self.blobs.remove(digest)
                removed.append(digest)
            temps = self.blobs.clear_ingest()
        return GCReport(removed_blobs=tuple(removed), freed_bytes=freed, kept_blobs=kept, removed_temp_files=temps)

    def check(self, *, deep: bool = False) -> CheckReport:
        """Verify every blob against its digest and every record's references; with `deep`, also
        decompress every image layer and compare it with the config's diff_id."""
        problems: list[str] = []
        blob_count = 0
        for digest in self.blobs.iter_digests():
            blob_count += 1
            if not is_digest(digest):
                problems.append(f"blob file {digest.partition(':')[2]!r} is not named by a sha256 digest")
                continue
            actual = _hash_file(self.blob_path(digest))
            if actual != digest:
                problems.append(f"blob {digest} is corrupt: its content hashes to {actual}")
        try:
            conn = self._db.read()
            integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
            if integrity != "ok":
                problems.append(f"database integrity check: {integrity}")
            images = conn.execute("SELECT digest, config_digest FROM images ORDER BY digest").fetchall()
            tags = conn.execute("SELECT name, digest FROM tags ORDER BY name").fetchall()
            cache_refs = conn.execute("SELECT key, digest FROM cache_blobs ORDER BY key, digest").fetchall()
            cache_count = conn.execute("SELECT COUNT(*) FROM cache").fetchone()[0]
        except sqlite3.Error as exc:
            raise _sql_error(exc) from None
        image_digests = {str(r[0]) for r in images}
        for digest, config_digest in images:
            problems.extend(self._check_image(str(digest), str(config_digest), deep))
        for name, digest in tags:
            if digest not in image_digests:
                problems.append(f"tag {name} points at missing image {digest}")
        for key, digest in cache_refs:
            if not self.has_blob(digest):
                problems.append(f"cache record {key!r} references missing blob {digest}")
        return CheckReport(
            blobs=blob_count, images=len(images), tags=len(tags), cache_records=int(cache_count), problems=tuple(problems)
        )

    def _check_image(self, digest: str, config_digest: str, deep: bool) -> list[str]:
        where = f"image {digest}"
        if not self.has_blob(digest):
            return [f"{where}: manifest blob is missing"]
        try:
            manifest = Manifest.from_json(self.read_blob(digest))
        except PybuildkitError as exc:
            return [f"{where}: manifest does not parse: {exc.message}"]
        problems = []
        if manifest.config.digest != config_digest:
            problems.append(f"{where}: record says config {config_digest}, manifest says {manifest.config.digest}")
        for desc in (manifest.config, *manifest.layers):
            path = self.blob_path(desc.digest)
            if not path.is_file():
                problems.append(f"{where}: blob {desc.digest} is missing")
            elif path.stat().st_size != desc.size:
                problems.append(f"{where}: blob {desc.digest} has size {path.stat().st_size}, descriptor says {desc.size}")
        if problems:
            return problems
        try:
            config = Image.from_json(self.read_blob(manifest.config.digest))
        except PybuildkitError as exc:
            return [f"{where}: config does not parse: {exc.message}"]
        if len(config.rootfs.diff_ids) != len(manifest.layers):
            problems.append(f"{where}: {len(manifest.layers)} layers but {len(config.rootfs.diff_ids)} diff_ids")
        elif deep:
            for layer, diff_id in zip(manifest.layers, config.rootfs.diff_ids):
                actual = self.layer_diff_id(layer.digest)
                if actual != diff_id:
                    problems.append(f"{where}: layer {layer.digest} uncompresses to {actual}, config says {diff_id}")
        return problems

    def layer_diff_id(self, digest: str) -> str:
        """The digest of a layer blob's uncompressed bytes."""
        hasher = hashlib.sha256()
        try:
            with self.open_blob(digest) as raw, open_uncompressed(raw) as stream:
                for chunk in iter(lambda: stream.read(1 << 20), b""):
                    hasher.update(chunk)
        except (OSError, EOFError, ValueError) as exc:
            raise ImageError(f"layer {digest} cannot be decompressed: {exc}") from None
        return "sha256:" + hasher.hexdigest()


def _hash_file(path: Path) -> str:
    hasher = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            hasher.update(chunk)
    return "sha256:" + hasher.hexdigest()


