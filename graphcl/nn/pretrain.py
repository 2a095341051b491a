"""Autoencoder pretraining as SDCN does it (MSE, Adam, mini-batches), cached on disk."""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path
from typing import Optional, Sequence, Union

import torch
import torch.nn.functional as F
from torch import Tensor

from graphcl.nn.mlp import AutoEncoder
from graphcl.validation import check_features, check_int, check_positive

log = logging.getLogger(__name__)

PathLike = Union[str, os.PathLike]


def cache_dir(path: Optional[PathLike] = None) -> Path:
    """The cache folder: ``path`` > ``$GRAPHCL_CACHE`` > ``~/.cache/graphcl``."""
    if path is not None:
        return Path(path)
    env = os.environ.get("GRAPHCL_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "graphcl"


def _cache_key(x: Tensor, channels: Sequence[int], epochs: int, lr: float, batch_size: int, seed: int) -> str:
    h = hashlib.sha256()
    data = x.detach().cpu().contiguous()
    h.update(str((tuple(data.shape), str(data.dtype))).encode())
    h.update(data.numpy().tobytes())
    h.update(repr((tuple(channels), epochs, lr, batch_size, seed, "sdcn-v1")).encode())
    return h.hexdigest()[:24]


def pretrain_autoencoder(
    x: Tensor,
    hidden_channels: Sequence[int] = (500, 500, 2000),
    out_channels: int = 10,
    epochs: int = 30,
    lr: float = 1e-3,
    batch_size: int = 256,
    random_state: int = 0,
    device: Union[str, torch.device] = "cpu",
    cache: Union[bool, PathLike] = True,
) -> AutoEncoder:
    r"""Train an :class:`AutoEncoder` to reconstruct ``x`` (SDCN's recipe).

    Minimises :math:`\frac{1}{Bd}\lVert \hat x - x\rVert^2` over shuffled mini-batches with
    Adam for ``epochs`` passes; the last epoch's weights are kept (no selection). Both the
    initial weights and the shuffling come from ``random_state``, so each seed gets its own
    pretrained network. Results are cached under :func:`cache_dir` ``/pretrain`` keyed by the
    data, architecture and settings (``cache=False`` disables; a path selects the folder).

    Args:
        x: Features ``[N, d]``.
        hidden_channels, out_channels: Architecture (see :class:`AutoEncoder`).
        epochs: Passes over the data (30 in SDCN). ``0`` returns the random initialisation.
        lr: Adam learning rate.
        batch_size: Mini-batch size.
        random_state: Seed.
        device: Where to train.
        cache: ``True`` (default folder), ``False``, or a folder.

    Returns:
        The trained autoencoder on ``device``, in eval mode.

    Raises:
        GraphclInputError: A bad ``x``, ``lr``, ``epochs`` (``>= 0``), ``batch_size`` (``>= 1``),
            ``random_state`` (an integer; NumPy integers too) or layer width.
    """
    x = check_features(x)
    lr = check_positive(lr, "lr")
    epochs = check_int(epochs, "epochs", minimum=0)
    batch_size = check_int(batch_size, "batch_size")
    random_state = check_int(random_state, "random_state", minimum=None)
    device = torch.device(device)
    model_cpu_seed = torch.Generator().manual_seed(random_state)
    ae = AutoEncoder(x.size(1), hidden_channels, out_channels)  # checks the layer widths
    channels = ae.encoder.channels
    path: Optional[Path] = None
    if cache is not False and epochs > 0:
        folder = cache_dir(None if cache is True else cache) / "pretrain"
        path = folder / f"ae_{_cache_key(x, channels, epochs, lr, batch_size, random_state)}.pt"
    # Deterministic initialisation from the seed, independent of the global RNG.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(random_state)
        ae.reset_parameters()
    if path is not None and path.exists():
        try:
            ae.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
            log.info("loaded pretrained autoencoder from %s", path)
            return ae.to(device).eval()
        except Exception as exc:  # a truncated or stale file: retrain and overwrite
            log.warning("ignoring unreadable cache file %s (%s)", path, exc)
    ae = ae.to(device).train()
    data = x.to(device)
    opt = torch.optim.Adam(ae.parameters(), lr=lr)
    n = data.size(0)
    for epoch in range(epochs):
        perm = torch.randperm(n, generator=model_cpu_seed).to(device)
        total = 0.0
        for start in range(0, n, batch_size):
            batch = data[perm[start : start + batch_size]]
            _, x_hat = ae(batch)
            loss = F.mse_loss(x_hat, batch)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += float(loss.detach()) * batch.size(0)
        log.debug("pretrain epoch %d: mse %.6f", epoch, total / n)
    ae.eval()
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        torch.save({k: v.detach().cpu() for k, v in ae.state_dict().items()}, tmp)
        os.replace(tmp, path)  # atomic: a concurrent reader never sees half a file
    return ae
