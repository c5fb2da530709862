"""pybuildkit.cache: cache keys, and moving and trimming the build cache.

`keys` is the key scheme (the lead's; an API once shipped). The rest is import/export and
maintenance: `spec` (the `--cache-to/--cache-from` spelling), `artifact` (the exported cache as an
OCI artifact), `layout` and `regcache` (a local OCI layout dir or a registry repository as the
target), `mountdirs` (cache-mount dirs as layers), `inline` (records in an image's manifest),
`transfer` (export/import), `buildhooks` (what a build calls), `maintenance` (du, prune, budget).
Submodules are imported by name; importing the package itself loads nothing, so the executor's
`pybuildkit.cache.keys` import stays cheap.
"""

__all__: list[str] = []
