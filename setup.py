"""Build of the native DC3D kernel (metadata: pyproject.toml). ``optional``: without a C compiler the package still
installs and sciml.okada uses its PyTorch path everywhere (sciml.okada.native)."""

import os
import shlex

from setuptools import Extension, setup

# portable by default; e.g. SCIML_OKADA_CFLAGS="-march=native" at install time: ~15 % faster on AVX2/FMA CPUs
# (benchmarks/okada_bench.py), but the build then runs only on CPUs like the one it was built on
extra = shlex.split(os.environ.get("SCIML_OKADA_CFLAGS", ""))
setup(ext_modules=[Extension(
    "sciml.okada._dc3d", ["sciml/okada/_dc3d.c"], depends=["sciml/okada/_pairs.h"],
    extra_compile_args=["-O3", "-fno-math-errno", "-pthread", *extra], extra_link_args=["-pthread"], optional=True)])
