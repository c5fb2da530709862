"""--chmod evaluation (pure): octal replaces, symbolic acts per entry as BuildKit's BSD setmode
does, which is chmod(1) for everything but a few corners (listed in BSD_ONLY)."""

from __future__ import annotations

import os
import stat
import subprocess

import pytest

from pybuildkit.errors import BuildError
from pybuildkit.execute.modes import parse_mode_change

CASES = [
    # text, current mode, is_dir, expected
    ("755", 0o644, False, 0o755),
    ("0644", 0o755, True, 0o644),
    ("4755", 0o644, False, 0o4755),
    ("755", 0o4755, False, 0o755),
    ("u+x", 0o644, False, 0o744),
    ("+x", 0o644, False, 0o755),
    ("a=r", 0o755, False, 0o444),
    ("go-w", 0o666, False, 0o644),
    ("u=rwx,g=rx,o=", 0o600, False, 0o750),
    ("u+rwx,g+x,o-w", 0o646, False, 0o754),
    ("a+X", 0o644, False, 0o644),
    ("a+X", 0o744, False, 0o755),
    ("a+X", 0o600, True, 0o711),
    ("g=u", 0o740, False, 0o770),
    ("o=g", 0o750, False, 0o755),
    ("u+s", 0o755, False, 0o4755),
    ("g+s", 0o755, True, 0o2755),
    ("+t", 0o777, True, 0o1777),
    ("o+s", 0o755, False, 0o755),
    ("u-x+s", 0o755, False, 0o4655),
    ("ug=rw", 0o4777, False, 0o667),
    ("u=rw", 0o2755, True, 0o2655),
    ("u+", 0o644, False, 0o644),
    ("u+x,g+x", 0o600, False, 0o710),
    ("u+x-w", 0o644, False, 0o544),
]

# Where BSD setmode (BuildKit) and GNU chmod part ways; BuildKit's answer is the expected one.
BSD_ONLY = [
    ("u=rw", 0o4755, True, 0o655),  # GNU keeps a directory's setuid on `=`
    ("u+t", 0o755, False, 0o1755),  # GNU ignores t for u
    ("o+t", 0o755, True, 0o755),  # BSD ignores t for o alone
    ("a=rX", 0o700, True, 0o444),  # BSD honours X only with +
    ("a-x,a+X", 0o755, False, 0o755),  # BSD's X looks at the mode before the whole change
]


@pytest.mark.parametrize(("text", "mode", "is_dir", "expected"), CASES + BSD_ONLY)
def test_mode_change(text: str, mode: int, is_dir: bool, expected: int) -> None:
    change = parse_mode_change(text)
    kind = stat.S_IFDIR if is_dir else stat.S_IFREG
    assert oct(change.apply(kind | mode, is_dir=is_dir)) == oct(expected)


@pytest.mark.parametrize(("text", "mode", "is_dir", "expected"), [c for c in CASES if not c[0].isdigit()])
def test_symbolic_agrees_with_chmod_command(tmp_path, text: str, mode: int, is_dir: bool, expected: int) -> None:
    """Outside the BSD corners, the real chmod(1) agrees (umask 0 for who-less clauses)."""
    target = tmp_path / "t"
    if is_dir:
        target.mkdir()
    else:
        target.write_text("x")
    os.chmod(target, mode)
    subprocess.run(["sh", "-c", f"umask 0; chmod {text} {target}"], check=True)
    assert oct(stat.S_IMODE(os.stat(target).st_mode)) == oct(expected)


@pytest.mark.parametrize("text", ["", "888", "77777", "u+q", "x+r", "rwx", "u=rw,,g=r", "a+rw x", "u", "u+x,", "9", "+x7"])
def test_invalid_modes(text: str) -> None:
    with pytest.raises(BuildError, match="invalid chmod parameter"):
        parse_mode_change(text)
