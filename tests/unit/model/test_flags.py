"""Flag parsing rules (BuildKit BFlags) and the per-instruction flag table."""

from __future__ import annotations

import pytest

from pybuildkit.errors import ParseError
from pybuildkit.model.flags import FLAG_TABLE, FlagKind, FlagSpec, flags_for, parse_flags

SPECS = (
    FlagSpec("str", FlagKind.STRING, "def"),
    FlagSpec("flag", FlagKind.BOOL, False),
    FlagSpec("many", FlagKind.STRINGS),
)


@pytest.mark.parametrize(
    ("words", "values", "used"),
    [
        ((), {"str": "def", "flag": False, "many": ()}, ()),
        (("--flag",), {"flag": True}, ("flag",)),
        (("--flag=TRUE",), {"flag": True}, ("flag",)),
        (("--flag=False",), {"flag": False}, ("flag",)),
        (("--str=",), {"str": ""}, ("str",)),
        (("--str=a=b",), {"str": "a=b"}, ("str",)),
        (("--many=a", "--many=b"), {"many": ("a", "b")}, ("many",)),
        (("--", "--unknown"), {"str": "def"}, ()),
        (("--str=x", "--", "--str=y"), {"str": "x"}, ("str",)),
    ],
)
def test_accepted(words, values, used):
    parsed = parse_flags(words, SPECS, "TEST")
    for name, value in values.items():
        assert parsed.values[name] == value
    assert parsed.used_sorted == used


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (("--nope",), "unknown flag: --nope"),
        (("--str",), "missing a value on flag: --str"),
        (("--flag=",), "missing a value on flag: --flag"),
        (("--flag=yes",), "expecting boolean value for flag --flag"),
        (("--str=a", "--str=b"), "duplicate flag specified: --str"),
        (("--flag", "--flag"), "duplicate flag specified: --flag"),
        (("str=a",), "flag should start with --"),
    ],
)
def test_rejected(words, message):
    with pytest.raises(ParseError) as info:
        parse_flags(words, SPECS, "TEST")
    assert message in info.value.message
    assert "TEST" in info.value.message


def test_unknown_flag_names_instruction_and_suggests():
    with pytest.raises(ParseError) as info:
        parse_flags(["--form=base"], flags_for("copy"), "COPY")
    assert "unknown flag: --form" in info.value.message
    assert "COPY" in info.value.message
    assert info.value.hint == "did you mean --from?"


def test_instruction_without_flags_says_so():
    with pytest.raises(ParseError, match="MAINTAINER takes no flags"):
        parse_flags(["--boo"], flags_for("maintainer"), "MAINTAINER")


def test_table_covers_documented_flags():
    names = {keyword: {spec.name for spec in specs} for keyword, specs in FLAG_TABLE.items()}
    assert names["copy"] == {"from", "chown", "chmod", "link", "exclude", "parents"}
    assert names["add"] == {"chown", "chmod", "link", "exclude", "keep-git-dir", "checksum", "unpack"}
    assert names["run"] == {"mount", "network", "security", "device"}
    assert names["from"] == {"platform"}
    assert names["healthcheck"] == {"interval", "timeout", "start-period", "start-interval", "retries"}
    assert flags_for("user") == ()
