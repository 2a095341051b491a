"""MLP node encoders and the SDCN-style autoencoder used by SCGC / SCGC* / PamC."""

from __future__ import annotations

from typing import Sequence, Tuple

import torch.nn as nn
from torch import Tensor

from graphcl.errors import GraphclInputError


def _mlp(channels: Sequence[int]) -> nn.Sequential:
    """Linear layers with ReLU between them and none after the last (a linear output)."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(channels[:-1], channels[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(channels) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def _check_channels(in_channels: int, hidden_channels: Sequence[int], out_channels: int) -> Tuple[int, ...]:
    channels = (in_channels, *hidden_channels, out_channels)
    if any(isinstance(c, bool) or not isinstance(c, int) or c < 1 for c in channels):
        raise GraphclInputError(f"layer widths must be positive integers, got {channels}")
    return tuple(channels)


class MLPEncoder(nn.Module):
    r"""Feed-forward node encoder :math:`z = f_\theta(x)`; the graph never enters it.

    ``Linear -> ReLU`` for each hidden width, then a linear output layer (SCGC's
    ``d-500-500-2000-10`` with the defaults). Because it needs no graph, a fitted encoder
    embeds unseen nodes from their features alone.

    Args:
        in_channels: Input feature size ``d``.
        hidden_channels: Hidden widths (default ``(500, 500, 2000)``).
        out_channels: Embedding size (default 10).

    Shapes:
        - **x**: ``[N, d]`` -> **z**: ``[N, out_channels]``.
    """

    def __init__(
        self, in_channels: int, hidden_channels: Sequence[int] = (500, 500, 2000), out_channels: int = 10
    ) -> None:
        super().__init__()
        self.channels = _check_channels(in_channels, hidden_channels, out_channels)
        self.net = _mlp(self.channels)

    @property
    def in_channels(self) -> int:
        return self.channels[0]

    @property
    def out_channels(self) -> int:
        return self.channels[-1]

    def reset_parameters(self) -> None:
        for m in self.net:
            if isinstance(m, nn.Linear):
                m.reset_parameters()

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({'-'.join(map(str, self.channels))})"


class AutoEncoder(nn.Module):
    r"""SDCN's autoencoder: an :class:`MLPEncoder` and its mirror-image decoder.

    ``d-500-500-2000-10`` / ``10-2000-500-500-d`` with the defaults; ReLU everywhere except
    the embedding and the reconstruction layers.

    Shapes:
        - **x**: ``[N, d]`` -> ``(z [N, out_channels], x_hat [N, d])``.
    """

    def __init__(
        self, in_channels: int, hidden_channels: Sequence[int] = (500, 500, 2000), out_channels: int = 10
    ) -> None:
        super().__init__()
        self.encoder = MLPEncoder(in_channels, hidden_channels, out_channels)
        self.decoder = nn.Sequential(*_mlp(tuple(reversed(self.encoder.channels))))

    def reset_parameters(self) -> None:
        self.encoder.reset_parameters()
        for m in self.decoder:
            if isinstance(m, nn.Linear):
                m.reset_parameters()

    def forward(self, x: Tensor) -> Tuple[Tensor, Tensor]:
        z = self.encoder(x)
        return z, self.decoder(z)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({'-'.join(map(str, self.encoder.channels))})"
