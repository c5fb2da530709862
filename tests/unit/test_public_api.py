"""The public Python API is a promise: these names, documented, typed, and `py.typed` shipped.

Changing this list is an API change: update docs/api.md with it.
"""

from __future__ import annotations

import importlib.resources
import inspect
import pytest

import pybuildkit
import pybuildkit.api as api

API_ALL = [
    "BuildOptions",
    "BuildReport",
    "BuildResult",
    "Event",
    "Output",
    "PybuildkitError",
    "Store",
    "build",
    "open_store",
    "parse",
    "parse_output",
]
PACKAGE_ALL = [*API_ALL, "__version__"]


def test_package_all_is_pinned() -> None:
    assert sorted(pybuildkit.__all__) == sorted(PACKAGE_ALL)
    assert set(PACKAGE_ALL) <= set(dir(pybuildkit))
    assert isinstance(pybuildkit.__version__, str) and pybuildkit.__version__.count(".") >= 2


def test_api_all_is_pinned() -> None:
    assert sorted(api.__all__) == API_ALL


@pytest.mark.parametrize("name", API_ALL)
def test_every_api_name_is_reachable_from_the_package_and_documented(name: str) -> None:
    obj = getattr(pybuildkit, name)
    assert obj is getattr(api, name)
    assert (inspect.getdoc(obj) or "").strip(), f"pybuildkit.{name} has no docstring"


@pytest.mark.parametrize("name", [n for n in API_ALL if inspect.isfunction(getattr(api, n))])
def test_api_functions_are_fully_typed(name: str) -> None:
    signature = inspect.signature(getattr(api, name))
    assert signature.return_annotation is not inspect.Signature.empty
    for parameter in signature.parameters.values():
        assert parameter.annotation is not inspect.Parameter.empty, f"{name}({parameter.name}) has no type"


def test_unknown_names_raise_attribute_error() -> None:
    with pytest.raises(AttributeError):
        pybuildkit.no_such_name  # noqa: B018


def test_py_typed_is_in_the_package() -> None:
    assert importlib.resources.files("pybuildkit").joinpath("py.typed").is_file()
