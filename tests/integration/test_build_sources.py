"""Where base images come from and where results go: a registry round trip of a built image,
`FROM oci-layout://`, and ONBUILD triggers firing in a later build."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from pybuildkit.api import parse_output
from pybuildkit.store import Store
from tests.support.build import Builder, builder, requires_root  # noqa: F401 - fixture
from tests.support.registry import RegistryServer, registry  # noqa: F401 - fixture

pytestmark = [pytest.mark.integration, requires_root]


def test_push_inspect_pull_and_build_from_it(builder: Builder, registry: RegistryServer, tmp_path: Path) -> None:
    ref = f"{registry.host}/team/app:1"
    built = builder.build(
        "FROM busybox\nRUN echo from-registry > /marker\nCMD [\"cat\", \"/marker\"]\n",
        outputs=[parse_output(f"type=image,name={ref},push=true")],
    )
    inspect = json.loads(
        subprocess.run(["skopeo", "inspect", "--tls-verify=false", f"docker://{ref}"], check=True, capture_output=True, text=True).stdout
    )
    assert inspect["Digest"] == built.result.digest

    fresh = Builder(tmp_path / "fresh-store", tmp_path / "fresh-context")
    again = fresh.build(f"FROM {ref}\nRUN cat /marker\n")
    assert "from-registry" in again.log
    with Store(fresh.root) as store:
        assert store.image(ref).digest == built.result.digest


def test_from_oci_layout_directory(builder: Builder, tmp_path: Path) -> None:
    layout = tmp_path / "layout"
    builder.build("FROM busybox\nRUN echo layered > /marker\n", outputs=[parse_output(f"type=oci,dest={layout},tar=false,name=base")])
    fresh = Builder(tmp_path / "other-store", tmp_path / "other-context")
    built = fresh.build(f"FROM oci-layout://{layout}:base\nRUN cat /marker\n")
    assert "layered" in built.log


def test_onbuild_triggers_run_in_the_child_build(builder: Builder) -> None:
    builder.write({"app.txt": "app\n"})
    builder.build("FROM busybox\nONBUILD COPY app.txt /app.txt\nONBUILD RUN echo triggered && cat /app.txt\n", tags=["onbuild-base:1"])
    child = builder.build("FROM onbuild-base:1\nRUN echo child\n")
    assert "triggered" in child.log and "app" in child.log
    assert child.ran[0].startswith("COPY") or any(name.startswith("COPY") for name in child.ran)
    with Store(builder.root) as store:
        assert not store.image(child.result.digest).config.config.on_build
