"""ADD's remote sources: an http(s) URL downloaded, a git repository checked out.

Both land in a scratch directory first and are only copied into the image once complete and
verified, so a failed download or a `--checksum` mismatch writes nothing into the destination.
The rules are BuildKit's: a download is named after the URL's path (Content-Disposition only
when the path has no name), gets mode 0600 and the server's Last-Modified as mtime; a git source is `URL#ref:subdir`, checked out
detached at `ref` (branch, tag or commit; the remote's HEAD when empty), `.git` removed unless
--keep-git-dir. The `git` command does the git work: its transport code is not ours to redo.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import shutil
import subprocess
import tempfile
import urllib.parse
from pathlib import Path

import attrs

from pybuildkit.context import resolve_in_root
from pybuildkit.errors import BuildError
from pybuildkit.plan.remote import is_git, is_url

__all__ = [
    "GitSource",
    "is_url",
    "is_git",
    "parse_git_source",
    "parse_checksum",
    "download",
    "url_identity",
    "git_identity",
    "fetch_git",
]

_CHUNK = 1 << 20
_USER_AGENT = "pybuildkit"
_ALGORITHMS = {"sha256": 64, "sha384": 96, "sha512": 128}




def parse_checksum(text: str) -> tuple[str, str]:
    """`sha256:<hex>` (or sha384/sha512) as (algorithm, lower-case hex); BuildError otherwise."""
    algorithm, sep, value = text.strip().partition(":")
    value = value.lower()
    expected = _ALGORITHMS.get(algorithm)
    if not sep or expected is None or len(value) != expected or any(c not in "0123456789abcdef" for c in value):
        raise BuildError(
            f"invalid checksum {text!r}",
            hint="use --checksum=sha256:<64 hex digits> for URLs, or a commit id for git sources",
        )
    return algorithm, value


def _file_name(url: str, disposition: str | None) -> str:
    """BuildKit's name for a download: the base of the URL's path as written (not after
    redirects); for a URL without one (`https://host/`), the Content-Disposition filename
    (where BuildKit would say `__unnamed__`), else `__unnamed__`."""
    path = urllib.parse.unquote(urllib.parse.urlsplit(url).path)
    base = posixpath.basename(path.rstrip("/"))
    if base not in ("", ".", ".."):
        return base
    if disposition:
        from email.message import Message

        msg = Message()
        msg["content-disposition"] = disposition
        name = msg.get_filename()
        if name and not name.endswith("/"):
            named = posixpath.basename(name.replace("\\", "/"))
            if named not in ("", ".", ".."):
                return named
    return "__unnamed__"


def download(url: str, into: Path, *, checksum: str | None = None, timeout: float = 120.0) -> Path:
    """Download `url` into directory `into`; returns the file (mode 0600, mtime Last-Modified).

    With `checksum`, the content must match it, else BuildError and no file is left.
    """
    import email.utils
    import urllib.error
    import urllib.request

    want = parse_checksum(checksum) if checksum else None
    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    tmp = Path(into) / f".download-{os.getpid()}-{id(request)}"
    digest = hashlib.new(want[0] if want else "sha256")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (http(s) only)
            name = _file_name(url, response.headers.get("Content-Disposition"))
            modified = response.headers.get("Last-Modified")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
            with os.fdopen(fd, "wb") as out:
                while chunk := response.read(_CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
    except urllib.error.HTTPError as exc:
        tmp.unlink(missing_ok=True)
        raise BuildError(f"failed to download {url}: invalid response status {exc.code}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        tmp.unlink(missing_ok=True)
        reason = getattr(exc, "reason", None) or exc
        raise BuildError(f"failed to download {url}: {reason}") from None
    if want and digest.hexdigest() != want[1]:
        tmp.unlink(missing_ok=True)
        raise BuildError(f"digest mismatch for {url}: expected {want[0]}:{want[1]}, got {want[0]}:{digest.hexdigest()}")
    final = Path(into) / name
    os.rename(tmp, final)
    os.chmod(final, 0o600)
    if modified:
        try:
            stamp = email.utils.parsedate_to_datetime(modified).timestamp()
        except (TypeError, ValueError, IndexError):
            stamp = None
        if stamp is not None:
            os.utime(final, (stamp, stamp))
    return final


def url_identity(url: str, *, timeout: float = 30.0) -> str | None:
    """What names the URL's current content without downloading it, for a cache key.

    BuildKit keys an ADD URL by the server's validators: the ETag, else Last-Modified with the
    length. A HEAD request gets them; None when the server offers neither (then only a download
    can tell, and the step should not be taken from the cache).
    """
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, method="HEAD", headers={"User-Agent": _USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (http(s) only)
            headers = response.headers
    except urllib.error.HTTPError as exc:
        raise BuildError(f"failed to check {url}: invalid response status {exc.code}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise BuildError(f"failed to check {url}: {getattr(exc, 'reason', None) or exc}") from None
    name = _file_name(url, headers.get("Content-Disposition"))
    if headers.get("ETag"):
        return f"etag:{headers['ETag']}\0{name}"
    if headers.get("Last-Modified"):
        return f"modified:{headers['Last-Modified']}\0length:{headers.get('Content-Length', '')}\0{name}"
    return None


@attrs.frozen
class GitSource:
    """`remote#ref:subdir` split up; `ref` and `subdir` empty when not given."""

    remote: str
    ref: str = ""
    subdir: str = ""


def parse_git_source(src: str) -> GitSource:
    remote, _, fragment = src.partition("#")
    ref, _, subdir = fragment.partition(":")
    if not remote or remote.startswith("-"):
        raise BuildError(f"invalid git source {src!r}")
    return GitSource(remote, ref, subdir)


def _git(args: list[str], *, cwd: Path | None, env: dict[str, str], timeout: float) -> str:
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
    except FileNotFoundError:
        raise BuildError("ADD of a git repository needs the git command, which is not installed") from None
    except subprocess.TimeoutExpired:
        raise BuildError(f"git {args[0]} timed out after {timeout:.0f}s") from None
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise BuildError(f"git {args[0]} failed: {' '.join(tail) or f'exit code {done.returncode}'}")
    return done.stdout.strip()


def _git_env(home: Path, allow_local: bool) -> dict[str, str]:
    protocols = "http:https:ssh:git" + (":file" if allow_local else "")
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.fspath(home),
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_ALLOW_PROTOCOL": protocols,
        "LC_ALL": "C",
    }


def _resolve_ref(checkout: Path, ref: str, env: dict[str, str], timeout: float) -> str:
    candidates = ["HEAD"] if not ref else [f"refs/remotes/origin/{ref}", f"refs/tags/{ref}", ref]
    for candidate in candidates:
        try:
            return _git(["rev-parse", "--verify", "--quiet", f"{candidate}^{{commit}}"], cwd=checkout, env=env, timeout=timeout)
        except BuildError:
            continue
    raise BuildError(f"git ref {ref or 'HEAD'!r} not found in the repository")


def git_identity(src: str, *, allow_local: bool = False, timeout: float = 120.0) -> str:
    """The commit `src`'s ref names right now (`git ls-remote`), for a cache key.

    A ref that no branch or tag matches but looks like a commit id is taken as that commit.
    """
    source = parse_git_source(src)
    if not allow_local and not (is_git(source.remote) or "://" in source.remote):
        raise BuildError(f"{source.remote!r} is not a remote git repository")
    with tempfile.TemporaryDirectory(prefix="pybuildkit-git-") as home:
        env = _git_env(Path(home), allow_local)
        listing = _git(["ls-remote", "--", source.remote], cwd=None, env=env, timeout=timeout)
    refs: dict[str, str] = {}
    for line in listing.splitlines():
        sha, _, name = line.partition("\t")
        refs[name] = sha
    ref = source.ref
    candidates = ["HEAD"] if not ref else [f"refs/heads/{ref}", f"refs/tags/{ref}^{{}}", f"refs/tags/{ref}", ref]
    for candidate in candidates:
        if candidate in refs:
            return refs[candidate]
    if ref and _is_commit_id(ref):
        return ref.lower()
    raise BuildError(f"git ref {ref or 'HEAD'!r} not found in {source.remote}")


def _is_commit_id(ref: str) -> bool:
    return 7 <= len(ref) <= 64 and all(c in "0123456789abcdef" for c in ref.lower())


def _clone(source: GitSource, checkout: Path, env: dict[str, str], timeout: float) -> None:
    """A shallow clone of just the ref when the server allows it (smart transports, a branch or
    tag name or the default branch), else the whole history (dumb HTTP, commit ids)."""
    target = os.fspath(checkout)
    if not _is_commit_id(source.ref):
        branch = ["--branch", source.ref] if source.ref else []
        try:
            _git(["clone", "--quiet", "--no-checkout", "--depth", "1", *branch, "--", source.remote, target], cwd=None, env=env, timeout=timeout)
            return
        except BuildError:
            shutil.rmtree(checkout, ignore_errors=True)
    _git(["clone", "--quiet", "--no-checkout", "--", source.remote, target], cwd=None, env=env, timeout=timeout)


def fetch_git(
    src: str,
    into: Path,
    *,
    keep_git_dir: bool = False,
    checksum: str | None = None,
    allow_local: bool = False,
    timeout: float = 600.0,
) -> Path:
    """Check `src` (`remote#ref:subdir`) out below `into`; returns the directory to copy from.

    `checksum` is a commit id (or a prefix of at least 7 hex digits) the ref must resolve to.
    `allow_local` lets the remote be a local path or file:// URL (tests); a Dockerfile never can.
    """
    source = parse_git_source(src)
    if not allow_local and not (is_git(source.remote) or "://" in source.remote):
        raise BuildError(f"{source.remote!r} is not a remote git repository")
    checkout = Path(into) / "checkout"
    home = Path(into) / "home"
    home.mkdir(exist_ok=True)
    env = _git_env(home, allow_local)
    _clone(source, checkout, env, timeout)
    commit = _resolve_ref(checkout, source.ref, env, timeout)
    if checksum:
        wanted = checksum.strip().lower()
        if len(wanted) < 7 or not commit.startswith(wanted):
            raise BuildError(f"expected checksum to match {wanted}, got {commit}")
    _git(["checkout", "--quiet", "--detach", commit], cwd=checkout, env=env, timeout=timeout)
    if (checkout / ".gitmodules").exists():
        _git(["submodule", "update", "--init", "--recursive", "--quiet"], cwd=checkout, env=env, timeout=timeout)
    if not keep_git_dir:
        shutil.rmtree(checkout / ".git", ignore_errors=True)
    if not source.subdir.strip("/"):
        return checkout
    selected = Path(resolve_in_root(checkout, source.subdir.strip("/")))
    if not selected.is_dir():
        raise BuildError(f"subdirectory {source.subdir!r} not found in git source {source.remote}")
    return selected
