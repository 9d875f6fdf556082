"""Physics-informed linear models (PILM): analytic bases, a general linear model with data, PDE and
boundary terms and unknown sources, closed-form Bayesian posterior and evidence (ABIC), and 1-D examples.
"""

from sciml.pilm.bases import BSpline1D, Fourier1D, GaussianRBF1D, GaussianRBF2D, TensorBasis2D
from sciml.pilm.model import Constant1D, D, LinearModel, Operator, PILMResult

__all__ = ["BSpline1D", "Fourier1D", "GaussianRBF1D", "GaussianRBF2D", "TensorBasis2D", "Constant1D", "D",
           "LinearModel", "Operator", "PILMResult"]
