"""RUN really executes in namespaces on overlay snapshots, with BuildKit's semantics, and the
cache skips what did not change. Every test builds for real against a local busybox image."""

from __future__ import annotations

import subprocess
import tarfile
from pathlib import Path

import pytest

from pybuildkit.errors import BuildError, ExecError, PlanError
from pybuildkit.store import Store
from tests.support.build import Builder, builder, requires_root  # noqa: F401 - fixture
from tests.support.rootfs import busybox_template  # noqa: F401 - fixture

pytestmark = [pytest.mark.integration, requires_root]


def layer_names(store_root: Path, digest: str) -> list[list[str]]:
    """Member names of every layer of an image, in order."""
    with Store(store_root) as store:
        image = store.image(digest)
        out = []
        for layer in image.manifest.layers:
            with store.open_blob(layer.digest) as blob, tarfile.open(fileobj=blob, mode="r|*") as tf:
                out.append([m.name for m in tf])
        return out


def all_layer_bytes(store_root: Path, digest: str) -> bytes:
    import gzip

    with Store(store_root) as store:
        image = store.image(digest)
        chunks = [store.read_blob(image.manifest.config.digest)]
        for layer in image.manifest.layers:
            with store.open_blob(layer.digest) as blob:
                chunks.append(gzip.decompress(blob.read()))
        return b"".join(chunks)


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("echo pid=$$", "pid=1"),
        ("hostname", "buildkitsandbox"),
        ("ls /work 2>&1 || echo no-work", "no-work"),
        ("id -u; pwd", "0\n/"),
    ],
)
def test_run_is_sandboxed(builder: Builder, command: str, expected: str) -> None:
    built = builder.build(f"FROM busybox\nRUN {command}\n")
    assert built.ran == [f"RUN {command}"]
    assert expected in built.log


def test_network_none_has_only_loopback(builder: Builder) -> None:
    built = builder.build("FROM busybox\nRUN --network=none cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d ' '\n")
    assert built.log.split() == ["lo"]
    built = builder.build("FROM busybox\nRUN --network=none ip link show lo || ifconfig lo\n")
    assert "UP" in built.log


def test_host_tmp_is_invisible(builder: Builder, tmp_path: Path) -> None:
    marker = Path("/tmp") / f"pybuild-marker-{tmp_path.name}"
    marker.write_text("host")
    try:
        built = builder.build(f"FROM busybox\nRUN test ! -e {marker} && echo invisible\n")
        assert "invisible" in built.log
    finally:
        marker.unlink()


def test_env_user_workdir_apply(builder: Builder) -> None:
    dockerfile = "FROM busybox\nENV A=1\nARG B=2\nUSER tester\nWORKDIR /home/tester/w\nRUN echo A=$A B=$B; id; pwd\n"
    built = builder.build(dockerfile)
    assert "A=1 B=2" in built.log
    assert "uid=1000(tester) gid=1000(tester)" in built.log and "2001" in built.log
    assert "/home/tester/w" in built.log


def test_rebuild_takes_every_step_from_cache(builder: Builder) -> None:
    dockerfile = "FROM busybox AS a\nRUN echo a > /a\nFROM a\nRUN echo b > /b\nENV X=1\n"
    first = builder.build(dockerfile)
    second = builder.build(dockerfile)
    assert first.ran == ["RUN echo a > /a", "RUN echo b > /b"]
    assert second.ran == []
    assert second.cached == ["RUN echo a > /a", "RUN echo b > /b"]
    assert first.result.digest == second.result.digest


def test_changed_build_arg_misses_from_its_first_use(builder: Builder) -> None:
    dockerfile = "FROM busybox\nRUN echo before\nARG V=1\nRUN echo uses $V\nRUN echo after\n"
    builder.build(dockerfile)
    again = builder.build(dockerfile, build_args={"V": "2"})
    assert again.cached == ["RUN echo before"]
    assert again.ran == ["RUN echo uses 2", "RUN echo after"]  # BuildKit names steps with ARGs expanded
    assert "V" in again.reasons()["RUN echo uses 2"]


def test_moving_a_comment_invalidates_nothing(builder: Builder) -> None:
    builder.build("FROM busybox\n# one\nRUN echo x\n")
    again = builder.build("FROM busybox\n\n\n# another comment\nRUN echo x\n")
    assert again.ran == []


def test_whiteout_hides_the_base_file_from_umoci(builder: Builder, tmp_path: Path) -> None:
    built = builder.build("FROM busybox\nRUN rm /bin/vi && rm -r /home\n", outputs=[_oci_output(tmp_path / "oci")])
    names = layer_names(builder.root, built.result.digest)[-1]
    assert "bin/.wh.vi" in names and ".wh.home" in names
    bundle = tmp_path / "bundle"
    subprocess.run(["umoci", "unpack", "--image", f"{tmp_path / 'oci'}:latest", str(bundle)], check=True, capture_output=True)
    assert not (bundle / "rootfs/bin/vi").exists() and not (bundle / "rootfs/home").exists()
    assert (bundle / "rootfs/bin/sh").exists()


def _oci_output(dest: Path):
    from pybuildkit.api import parse_output

    return parse_output(f"type=oci,dest={dest},tar=false,name=latest")


def test_cache_mount_persists_and_stays_out_of_layers(builder: Builder) -> None:
    run = "RUN --mount=type=cache,target=/var/cache/x sh -c 'echo run >> /var/cache/x/log; wc -l < /var/cache/x/log'"
    builder.build(f"FROM busybox\n{run}\n")
    second = builder.build(f"FROM busybox\nRUN echo bust\n{run}\n")
    assert second.log.split()[-1] == "2"
    names = [n for layer in layer_names(builder.root, second.result.digest) for n in layer]
    assert not any(n.startswith("var/cache/x/") for n in names)


def test_secret_is_readable_and_leaves_no_trace(builder: Builder, tmp_path: Path) -> None:
    secret = tmp_path / "token"
    value = "s3cr3t-value-9f2c"
    secret.write_text(value)
    dockerfile = (
        "FROM busybox\n"
        "RUN --mount=type=secret,id=token test -s /run/secrets/token && echo readable\n"
        "RUN --mount=type=secret,id=token,env=TOKEN echo length=${#TOKEN}\n"
    )
    built = builder.build(dockerfile, secrets={"token": ("file", str(secret))}, metadata_file=tmp_path / "meta.json")
    assert "readable" in built.log and f"length={len(value)}" in built.log
    assert value not in built.log
    assert value.encode() not in all_layer_bytes(builder.root, built.result.digest)
    assert value not in (tmp_path / "meta.json").read_text()
    with Store(builder.root) as store:
        for key in store.cache_keys():
            record = store.get_cache(key)
            assert record is not None and value.encode() not in record.to_bytes()


def test_failing_run_reports_command_status_and_tail(builder: Builder) -> None:
    with pytest.raises(ExecError) as info:
        builder.build("FROM busybox\nRUN echo first-line && echo last-line && exit 7\n")
    error = info.value
    assert error.status == 7 and error.span is not None and error.span.line == 2
    assert error.log_tail[-1] == "last-line"
    assert "RUN echo first-line" in error.render()


def test_insecure_security_is_refused_without_allow(builder: Builder) -> None:
    with pytest.raises(BuildError, match="security.insecure"):
        builder.build("FROM busybox\nRUN --security=insecure true\n")


def test_target_builds_only_what_it_needs(builder: Builder) -> None:
    dockerfile = "FROM busybox AS unused\nRUN echo unused\nFROM busybox AS dep\nRUN echo dep\nFROM dep AS final\nRUN echo final\n"
    built = builder.build(dockerfile, target="dep")
    assert built.ran == ["RUN echo dep"]
    with pytest.raises(PlanError):
        builder.build(dockerfile, target="nope")


def test_source_date_epoch_gives_identical_images_in_fresh_stores(tmp_path: Path) -> None:
    from tests.support.build import Builder as B
    from tests.support.images import install_busybox

    digests = []
    for name in ("one", "two"):
        root = tmp_path / name / "store"
        with Store(root) as store:
            install_busybox(store, tmp_path / name)
        b = B(root, tmp_path / name / "ctx")
        built = b.build("FROM busybox\nRUN echo hi > /x && mkdir -p /d && touch /d/f\nENV A=b\nCMD [\"sh\"]\n", source_date_epoch=1700000000)
        digests.append(built.result.digest)
    assert digests[0] == digests[1]


def test_run_layer_holds_only_what_the_command_changed(builder: Builder) -> None:
    # /etc/hosts, /etc/resolv.conf and /etc/hostname are mounted for the run only: no etc/ entry.
    built = builder.build("FROM busybox\nRUN echo hi > /x\nRUN rm /etc/group\n")
    layers = layer_names(builder.root, built.result.digest)
    assert layers[-2] == ["x"]
    assert layers[-1] == ["etc/", "etc/.wh.group"] or layers[-1] == ["etc", "etc/.wh.group"]


def test_debug_on_fail_opens_a_shell_in_the_failed_sandbox(builder: Builder) -> None:
    import subprocess
    import sys

    (builder.context / "Dockerfile").write_text("FROM busybox\nWORKDIR /work\nRUN echo partial > /work/half && exit 4\n")
    done = subprocess.run(
        [sys.executable, "-m", "pybuildkit.cli.main", "--root", str(builder.root), "build", "--debug-on-fail", str(builder.context)],
        input="cat /work/half\npwd\nexit\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "opening /bin/sh in its sandbox" in done.stderr
    assert done.stdout.splitlines()[:2] == ["partial", "/work"]


def test_independent_stages_run_at_the_same_time(builder: Builder) -> None:
    # Each stage waits (bounded) for the other's marker in a shared cache mount: run one after the
    # other, the first would give up and fail the build.
    wait = "i=0; while [ ! -e /sync/{other} ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done; test -e /sync/{other}"
    stage = "FROM busybox AS {me}\nRUN --mount=type=cache,id=sync,target=/sync touch /sync/{me}; " + wait + "\n"
    dockerfile = (
        stage.format(me="left", other="right")
        + stage.format(me="right", other="left")
        + "FROM busybox\nCOPY --from=left /bin/sh /l\nCOPY --from=right /bin/sh /r\n"
    )
    assert len(builder.build(dockerfile).ran) == 4


def test_no_cache_filter_reruns_only_that_stage(builder: Builder) -> None:
    dockerfile = "FROM busybox AS deps\nRUN echo deps > /deps\nFROM busybox\nCOPY --from=deps /deps /deps\nRUN echo app\n"
    builder.build(dockerfile)
    again = builder.build(dockerfile, no_cache_filter=("deps",))
    assert again.ran[0] == "RUN echo deps > /deps"
    assert again.reasons()["RUN echo deps > /deps"] == "--no-cache-filter deps was given"
    assert builder.build(dockerfile).ran == []


def test_git_checksums_ignore_mode_bits_git_does_not_carry(builder: Builder) -> None:
    import os

    builder.write({"src/a.txt": "a\n", "src/run.sh": "#!/bin/sh\n"})
    os.chmod(builder.context / "src/a.txt", 0o644)
    os.chmod(builder.context / "src/run.sh", 0o755)
    dockerfile = "FROM busybox\nCOPY src/ /src/\nRUN ls /src\n"
    builder.build(dockerfile, checksum_mode="git")
    os.chmod(builder.context / "src/a.txt", 0o664)  # another umask on a CI checkout
    assert builder.build(dockerfile, checksum_mode="git").ran == []
    os.chmod(builder.context / "src/a.txt", 0o775)  # the executable bit is content to git
    assert builder.build(dockerfile, checksum_mode="git").ran == ["COPY src/ /src/", "RUN ls /src"]


def test_context_bind_mount_is_keyed_and_filtered_by_dockerignore(builder: Builder) -> None:
    builder.write({"src/a.txt": "one\n", "src/secret.log": "hidden\n", ".dockerignore": "**/*.log\n"})
    dockerfile = "FROM busybox\nRUN --mount=type=bind,source=src,target=/src cat /src/a.txt; ls /src\n"
    first = builder.build(dockerfile)
    assert "one" in first.log and "secret.log" not in first.log
    assert builder.build(dockerfile).ran == []
    builder.write({"src/secret.log": "changed but ignored\n"})
    assert builder.build(dockerfile).ran == []
    builder.write({"src/a.txt": "two\n"})
    changed = builder.build(dockerfile)
    assert "two" in changed.log
    assert "src/a.txt" in next(iter(changed.reasons().values()))
