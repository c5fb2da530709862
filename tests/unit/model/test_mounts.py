"""`RUN --mount` parsing: every type, option aliases, defaults and BuildKit's validation."""

from __future__ import annotations

import pytest

from pybuildkit.errors import PlanError
from pybuildkit.model.mounts import parse_mount

ACCEPTED = [
    # spec, expected fields (others at their default)
    ("target=/src", {"type": "bind", "target": "/src", "readonly": True}),
    ("type=bind,source=a,target=/src,rw", {"source": "a", "readonly": False}),
    ("type=bind,src=a,dst=/x,from=build", {"source": "a", "target": "/x", "from_": "build"}),
    ("type=bind,destination=/x,readwrite=true", {"target": "/x", "readonly": False}),
    ("type=bind,target=/x,ro=false", {"readonly": False}),
    ("type=bind,target=/x,readonly", {"readonly": True}),
    ("TYPE=Cache,target=/root/.cache", {"type": "cache", "readonly": False, "sharing": "shared"}),
    ("type=cache,target=/c,id=go,sharing=LOCKED", {"id": "go", "sharing": "locked"}),
    ("type=cache,target=/c,sharing=private,mode=0700,uid=1000,gid=1000", {"sharing": "private", "mode": 0o700, "uid": 1000, "gid": 1000}),
    ("type=cache,target=/c,ro", {"readonly": True}),
    ("type=cache,target=/c,from=base,source=/cache", {"from_": "base", "source": "/cache"}),
    ("type=tmpfs,target=/t", {"type": "tmpfs", "readonly": False, "size": None}),
    ("type=tmpfs,target=/t,size=64m", {"size": 64 << 20}),
    ("type=secret,id=aws", {"type": "secret", "id": "aws", "readonly": True, "required": False}),
    ("type=secret,id=aws,required", {"required": True}),
    ("type=secret,id=aws,required=false", {"required": False}),
    ("type=secret,source=tok,target=/t,mode=0440,uid=1", {"source": "tok", "mode": 0o440, "uid": 1}),
    ("type=secret,id=tok,env=TOKEN", {"env": "TOKEN"}),
    ("type=ssh", {"type": "ssh", "required": False}),
    ("type=ssh,id=gh,target=/ssh.sock,required=true,mode=0600", {"id": "gh", "target": "/ssh.sock", "required": True, "mode": 0o600}),
    ('type=bind,"source=a,b",target=/x', {"source": "a,b"}),
    ("type=bind,target=$DIR,source=${SRC}", {"target": "$DIR", "source": "${SRC}"}),
    ("type=$KIND,target=/x,mode=$M", {"type": "bind", "mode": None}),
    ("type=cache,target=/x,uid=$UID", {"uid": None}),
    ("type=bind,from=stage$,target=/x", {"from_": "stage$"}),
]


@pytest.mark.parametrize(("spec", "fields"), ACCEPTED, ids=[case[0] for case in ACCEPTED])
def test_accepted(spec, fields):
    mount = parse_mount(spec)
    for name, value in fields.items():
        assert getattr(mount, name) == value, name
    assert mount.spec == spec


REJECTED = [
    ("type=volume,target=/x", 'unsupported mount type "volume"'),
    ("type=bind,target=/x,sharing=locked", "invalid cache sharing set for bind mount"),
    ("type=cache,target=/x,sharing=maybe", 'unsupported sharing value "maybe"'),
    ("type=bind,target=/x,mode=0755", 'mode not allowed for "bind" type mounts'),
    ("type=tmpfs,target=/x,uid=0", 'uid not allowed for "tmpfs" type mounts'),
    ("type=bind,target=/x,gid=0", 'gid not allowed for "bind" type mounts'),
    ("type=cache,target=/x,mode=9", "invalid value 9 for mode"),
    ("type=cache,target=/x,uid=-1", "invalid value -1 for uid"),
    ("type=cache,target=/x,gid=4294967296", "invalid value 4294967296 for gid"),
    ("type=bind,target=/x,required", "unexpected key 'required' for mount type 'bind'"),
    ("required,type=secret,id=a", "unexpected key 'required' for mount type 'bind'"),
    ("type=cache,target=/x,size=1m", "unexpected key 'size' for mount type 'cache'"),
    ("type=tmpfs,target=/x,size=lots", "invalid value for size: lots"),
    ("type=bind,target=/x,ro=maybe", "invalid value for ro: maybe"),
    ("type=bind,target=/x,rw=2", "invalid value for rw: 2"),
    ("type=secret,id=a,required=nah", "invalid value for required: nah"),
    ("type=secret", "invalid secret mount. one of source, target required"),
    ("type=secret,source=a,id=b", "both source and id can't be set"),
    ("type=secret,id=a,from=base", "secret mount should not have a from"),
    ("type=secret,id=a,sharing=shared", "secret mount should not define sharing"),
    ("type=ssh,source=x", "ssh does not support source"),
    ("type=bind,target=/x,env=FOO", "unexpected key 'env' for mount type 'bind'"),
    ("type=bind,from=$STAGE,target=/x", "'from' doesn't support variable expansion"),
    ("type=bind,target=/x,bogus=1", "unexpected key 'bogus' in 'bogus=1'"),
    ("type=bind,nokey", "invalid field 'nokey' must be a key=value pair"),
    ('type=bind,"target=/x', "failed to parse csv mounts"),
    ("type=cache,target=/", 'invalid mount target "/"'),
    ("type=bind,target=//", 'invalid mount target "//"'),
]


@pytest.mark.parametrize(("spec", "message"), REJECTED, ids=[case[0] for case in REJECTED])
def test_rejected(spec, message):
    with pytest.raises(PlanError) as info:
        parse_mount(spec)
    assert message in info.value.message
    assert spec in info.value.message


def test_suggests_close_keys():
    with pytest.raises(PlanError) as info:
        parse_mount("type=cache,taget=/x")
    assert info.value.hint == "did you mean target?"
    with pytest.raises(PlanError) as info:
        parse_mount("type=cahce,target=/x")
    assert info.value.hint == "did you mean cache?"


@pytest.mark.parametrize(
    ("spec", "effective_id", "effective_target"),
    [
        ("type=cache,target=/root/.cache/", "/root/.cache", "/root/.cache/"),
        ("type=cache,target=/c,id=shared", "shared", "/c"),
        ("type=secret,id=aws", "aws", "/run/secrets/aws"),
        ("type=secret,source=tok", "tok", "/run/secrets/tok"),
        ("type=secret,target=/etc/creds.json", "creds.json", "/etc/creds.json"),
        ("type=secret,id=tok,env=TOKEN", "tok", None),
        ("type=secret,id=tok,env=TOKEN,target=/t", "tok", "/t"),
        ("type=ssh", "default", None),
        ("type=ssh,id=gh", "gh", None),
        ("target=/x", None, "/x"),
    ],
)
def test_defaults(spec, effective_id, effective_target):
    mount = parse_mount(spec)
    assert mount.effective_id == effective_id
    assert mount.effective_target == effective_target


def test_reparse_with_expander():
    spec = "type=$KIND,target=$DIR,mode=$M"
    deferred = parse_mount(spec)
    assert deferred.needs_expansion
    values = {"$KIND": "cache", "$DIR": "/cache", "$M": "0700"}
    mount = parse_mount(deferred.spec, expand=lambda value: values.get(value, value))
    assert (mount.type, mount.target, mount.mode, mount.readonly) == ("cache", "/cache", 0o700, False)
    with pytest.raises(PlanError, match="mode not allowed"):
        parse_mount("type=$KIND,target=/x,mode=0700", expand=lambda value: "bind" if value == "$KIND" else value)
