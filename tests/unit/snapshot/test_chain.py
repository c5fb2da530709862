"""Chain ids follow the OCI image spec's definition exactly."""

from __future__ import annotations

import hashlib

import pytest

from pybuildkit.errors import ImageError
from pybuildkit.snapshot.chain import chain_id, chain_ids

A = "sha256:" + "a" * 64
B = "sha256:" + "b" * 64
C = "sha256:" + "c" * 64


def spec(parent: str, diff_id: str) -> str:
    return "sha256:" + hashlib.sha256((parent + " " + diff_id).encode()).hexdigest()


def test_base_layer_chain_id_is_its_diff_id() -> None:
    assert chain_id(None, A) == A


def test_chain_ids_of_a_stack() -> None:
    assert chain_ids([A, B, C]) == [A, spec(A, B), spec(spec(A, B), C)]
    assert chain_ids([]) == []


def test_order_matters() -> None:
    assert chain_ids([A, B])[-1] != chain_ids([B, A])[-1]


@pytest.mark.parametrize("bad", ["", "sha256:abc", "md5:" + "a" * 64, "sha256:" + "A" * 64, A + "\n"])
def test_malformed_digest_is_an_image_error(bad: str) -> None:
    with pytest.raises(ImageError):
        chain_id(None, bad)
    with pytest.raises(ImageError):
        chain_id(bad, A)
