"""sciml: reproducible scientific machine learning for seismology and geodesy.

Subpackages: ``okada`` (elastic dislocations), ``pilm`` and ``gnss`` (physics-informed linear models,
strain rates), ``nn`` and ``pinn`` (networks, trainer, PINN studies), ``operators`` (neural operators),
``bayes`` and ``gp`` (functional-prior Bayesian PINNs), ``forward`` (reference solvers), ``io``
(NetCDF lineage contract), ``plots`` (figure style).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("sciml")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
