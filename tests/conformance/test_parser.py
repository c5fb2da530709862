"""The parser against BuildKit's own parser tests and real-world Dockerfiles (corpus read in place).

Parametrised per case id, so a failure names the upstream case; the corpus is described in
`conformance/README.md` section 1.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pybuildkit.errors import ParseError
from tests.conftest import conformance_root

# Every parser-level case is expected to pass; a case that ever has to be skipped goes here with
# its reason, so that the gap is visible in the test file itself.
SKIP: dict[str, str] = {}

_ROOT = conformance_root()


def _names(sub: str) -> list[str]:
    if _ROOT is None or not (_ROOT / sub).is_dir():
        return []
    return sorted(p.name for p in (_ROOT / sub).iterdir())


def _cases(name: str) -> list[dict]:
    if _ROOT is None:
        return []
    return json.loads((_ROOT / name).read_text(encoding="utf-8"))["cases"]


def _params(cases: list[dict], kinds: set[str]) -> list:
    out = []
    for case in cases:
        if case["kind"] not in kinds:
            continue
        marks = [pytest.mark.skip(reason=SKIP[case["id"]])] if case["id"] in SKIP else []
        out.append(pytest.param(case, id=case["id"], marks=marks))
    return out


@pytest.mark.parametrize("name", _names("parser/positive"))
def test_positive_dump_matches_buildkit(conformance: Path, name: str) -> None:
    from pybuildkit.syntax import dump, parse

    case = conformance / "parser" / "positive" / name
    document = parse((case / "Dockerfile").read_bytes(), path=f"{name}/Dockerfile")
    assert dump(document) == (case / "result").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", _names("parser/negative"))
def test_negative_fails_with_located_error(conformance: Path, name: str) -> None:
    from pybuildkit.syntax import parse

    with pytest.raises(ParseError) as info:
        parse((conformance / "parser" / "negative" / name / "Dockerfile").read_bytes())
    assert info.value.span is not None and info.value.span.line >= 1


@pytest.mark.parametrize(
    "name", [n for n in _names("real-world") if n.endswith(".Dockerfile")]
)
def test_real_world_file_parses(conformance: Path, name: str) -> None:
    from pybuildkit.syntax import dump, parse

    document = parse((conformance / "real-world" / name).read_bytes(), path=name)
    assert document.nodes and document.nodes[0].span.line >= 1
    assert dump(document).count("\n") == len(document.nodes)


_PARSER_CASES = _cases("parser/cases.json")


@pytest.mark.parametrize("case", _params(_PARSER_CASES, {"parse_words"}))
def test_parse_words(case: dict) -> None:
    from pybuildkit.syntax.instruction import split_words

    assert list(split_words(case["input"])) == case["expect"]


@pytest.mark.parametrize("case", _params(_PARSER_CASES, {"json_array"}))
def test_json_array(case: dict) -> None:
    from pybuildkit.syntax.instruction import parse_json_array

    if case["expect_error"] is not None:
        with pytest.raises(ParseError, match=case["expect_error"]):
            parse_json_array(case["input"])
    else:
        assert list(parse_json_array(case["input"])) == case["expect"]


@pytest.mark.parametrize("case", _params(_PARSER_CASES, {"name_val"}))
def test_name_value(case: dict) -> None:
    from pybuildkit.syntax.instruction import parse_name_value

    if case["expect_error"] is not None:
        with pytest.raises(ParseError, match=case["expect_error"]):
            parse_name_value(case["instruction"], case["input"])
    else:
        assert list(parse_name_value(case["instruction"], case["input"])) == case["expect_nodes"]


@pytest.mark.parametrize("case", _params(_PARSER_CASES, {"line_numbers"}))
def test_line_numbers(conformance: Path, case: dict) -> None:
    from pybuildkit.syntax import parse

    document = parse((conformance / case["dockerfile_file"]).read_bytes())
    spans = [[n.start_line, n.end_line] for n in document.nodes]
    assert [spans[0][0], spans[-1][1]] == case["expect_root_lines"]
    assert spans == case["expect_children_lines"]


@pytest.mark.parametrize("case", _params(_PARSER_CASES, {"warnings"}))
def test_warnings(case: dict) -> None:
    from pybuildkit.syntax import parse

    warnings = parse(case["dockerfile"]).warnings
    assert len(warnings) == case["expect_warning_count"]
    for warning, needles in zip(warnings, case["expect_warning_short_contains"]):
        for needle in needles:
            assert needle in warning.message
    assert case["expect_warning0_detail_contains"] in warnings[0].detail


@pytest.mark.parametrize("case", _params(_PARSER_CASES, {"parse_error"}))
def test_parse_error_exact(case: dict) -> None:
    from pybuildkit.syntax import parse

    gen = case["dockerfile_generator"]
    text = gen["prefix"] + gen["repeat"] * gen["count"] + gen["suffix"]
    with pytest.raises(ParseError) as info:
        parse(text)
    assert info.value.message == case["expect_error_exact"]


@pytest.mark.parametrize("case", _params(_PARSER_CASES, {"directives_parse_all"}))
def test_directives_parse_all(case: dict) -> None:
    from pybuildkit.syntax.directives import scan_directives

    found = [{"name": d.name, "value": d.value} for d in scan_directives(case["input"])]
    assert found == case["expect"]


@pytest.mark.parametrize("case", _params(_PARSER_CASES, {"detect_syntax", "parse_directive"}))
def test_detect_syntax_and_parse_directive(case: dict) -> None:
    from pybuildkit.syntax.directives import detect_syntax, parse_directive

    if case["kind"] == "detect_syntax":
        found = detect_syntax(case["input"])
    else:
        found = parse_directive(case["key"], case["input"])
    assert (found is not None) == case["expect_found"]
    value = found.value if found else ""
    if "expect_ref" in case:
        assert value.split(" ", 1)[0] == case["expect_ref"]
    if "expect_cmdline" in case:
        assert value == case["expect_cmdline"]
    if "expect_line" in case:
        assert found is not None and found.line == case["expect_line"]


def test_every_parser_case_kind_is_covered() -> None:
    covered = {
        "parse_words", "json_array", "name_val", "line_numbers", "warnings", "parse_error",
        "directives_parse_all", "detect_syntax", "parse_directive",
    }
    assert {c["kind"] for c in _PARSER_CASES} <= covered
