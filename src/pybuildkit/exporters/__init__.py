"""pybuildkit.exporters: images out of the store (OCI layout dir or tar, docker-archive) and back in
(docker-archive and oci-archive tars, OCI layout directories)."""

from __future__ import annotations

from pybuildkit.exporters.docker_archive import export_docker_archive
from pybuildkit.exporters.importer import (
    OCI_LAYOUT_SCHEME,
    host_platform,
    import_oci_layout,
    import_oci_source,
    load_archive,
    parse_oci_layout_ref,
)
from pybuildkit.exporters.oci_layout import export_oci_archive, export_oci_layout

__all__ = [
    "export_docker_archive",
    "export_oci_archive",
    "export_oci_layout",
    "load_archive",
    "import_oci_layout",
    "import_oci_source",
    "parse_oci_layout_ref",
    "host_platform",
    "OCI_LAYOUT_SCHEME",
]
