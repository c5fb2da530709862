"""pybuildkit.containers: `pybuild run` and the container lifecycle, on the build engine's parts.

A container is a record under `<store root>/containers/<id>/` (config, state, log) plus its own
writable layer: an overlay of the image's snapshots (`<store root>/fs`, shared with builds) and
the container's upper dir. Its process runs in `pybuildkit.sandbox` with the sandbox's init as
PID 1; limits go through cgroups; volumes live under `<store root>/volumes/`.
"""

from pybuildkit.containers.commit import commit
from pybuildkit.containers.nsenter import ExecRequest, exec_in
from pybuildkit.containers.options import (
    CPU_PERIOD,
    Limits,
    Process,
    VolumeSpec,
    merge_env,
    parse_cpus,
    parse_env_arg,
    parse_env_file,
    parse_memory,
    parse_signal,
    parse_volume,
    resolve_process,
    valid_name,
)
from pybuildkit.containers.records import Container, ContainerConfig, ContainerRecords, ContainerState
from pybuildkit.containers.runtime import STOP_TIMEOUT, CreateOptions, Runtime
from pybuildkit.containers.volumes import Volume, Volumes

__all__ = [
    "CPU_PERIOD",
    "STOP_TIMEOUT",
    "Container",
    "ContainerConfig",
    "ContainerRecords",
    "ContainerState",
    "CreateOptions",
    "ExecRequest",
    "Limits",
    "Process",
    "Runtime",
    "Volume",
    "VolumeSpec",
    "Volumes",
    "commit",
    "exec_in",
    "merge_env",
    "parse_cpus",
    "parse_env_arg",
    "parse_env_file",
    "parse_memory",
    "parse_signal",
    "parse_volume",
    "resolve_process",
    "valid_name",
]
