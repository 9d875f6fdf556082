"""Networks, exact differential operators and the project-wide trainer (see METHODS.md section 4)."""

from sciml.nn.adaptive import ResidualSampler, causal_reduce, chunk_losses
from sciml.nn.derivatives import (divergence, func_gradient, func_hessian, func_laplacian, gradient, jacobian,
                                  laplacian, time_derivative, value_grad_laplacian)
from sciml.nn.networks import MLP, Bounded, FactoredEikonal, FourierFeatures, HardDirichlet, Positive
from sciml.nn.trainer import NonFiniteLossError, TrainConfig, Trainer, TrainHistory

__all__ = ["MLP", "Bounded", "FactoredEikonal", "FourierFeatures", "HardDirichlet", "NonFiniteLossError", "Positive",
           "ResidualSampler", "TrainConfig", "TrainHistory", "Trainer", "causal_reduce", "chunk_losses", "divergence",
           "func_gradient", "func_hessian", "func_laplacian", "gradient", "jacobian", "laplacian", "time_derivative",
           "value_grad_laplacian"]
