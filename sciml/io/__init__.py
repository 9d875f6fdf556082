"""Reading and writing results under the lineage contract (see :mod:`sciml.io.netcdf`)."""

from sciml.io.netcdf import (
    build_provenance,
    describe,
    lineage_tree,
    read_dataset,
    read_provenance,
    sha256,
    validate_file,
    write_dataset,
)

__all__ = [
    "build_provenance",
    "describe",
    "lineage_tree",
    "read_dataset",
    "read_provenance",
    "sha256",
    "validate_file",
    "write_dataset",
]
