"""`pybuild ps` words a container's status as Docker does."""

from __future__ import annotations

import pytest

from pybuildkit.cli.cmd_ps import status_text

NOW = 1_700_000_000.0  # 2023-11-14T22:13:20Z


@pytest.mark.parametrize(
    "status, code, started, finished, text",
    [
        ("running", None, "2023-11-14T22:13:17Z", "", "Up 3 seconds"),
        ("running", None, "2023-11-14T20:13:19.5Z", "", "Up 2 hours"),
        ("running", None, "2023-11-14T21:13:20Z", "", "Up About an hour"),
        ("running", None, "2023-11-14T22:13:20Z", "", "Up Less than a second"),
        ("exited", 0, "", "2023-11-14T22:11:20Z", "Exited (0) 2 minutes ago"),
        ("exited", 137, "", "2023-11-11T22:13:20Z", "Exited (137) 3 days ago"),
        ("exited", 1, "", "2023-11-14T22:12:20Z", "Exited (1) About a minute ago"),
        ("created", None, "", "", "Created"),
    ],
)
def test_status_text(status: str, code: int | None, started: str, finished: str, text: str) -> None:
    assert status_text(status, code, started, finished, NOW) == text
