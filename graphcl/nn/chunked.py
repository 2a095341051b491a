"""Inference over many nodes in bounded memory."""

from __future__ import annotations

import torch
from torch import Tensor


@torch.no_grad()
def encode_in_chunks(encoder: torch.nn.Module, x: Tensor, chunk: int) -> Tensor:
    """``encoder(x)`` without gradients, ``chunk`` rows at a time (bounded activation memory).

    Args:
        encoder: A row-wise module (an MLP: row ``i`` of the output depends on row ``i`` only).
        x: ``[N, F]`` inputs.
        chunk: Rows per pass.

    Returns:
        ``[N, d]`` outputs.
    """
    return torch.cat([encoder(part) for part in x.split(chunk)], dim=0)
