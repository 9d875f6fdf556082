"""Fixture shared by the tests/test_bayes_*.py modules (imported there; not a test module)."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Small tensors: one torch thread avoids oversubscription on shared CPUs (rules run with 1 thread too)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
