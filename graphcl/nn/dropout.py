r"""Dropout whose random mask is cheap on CPU.

``torch.nn.functional.dropout`` on CPU draws one value from the (serial) CPU generator per
element; on MEOW's network (about twenty ``[N, 64]`` dropouts per epoch) that was 40 % of a
CPU epoch. :func:`dropout` draws one 64-bit word per **four** elements and reads each 16-bit
lane as a uniform integer :math:`r \in [-2^{15}, 2^{15})`, keeping an element when
:math:`r \ge \lfloor p\,2^{16} \rceil - 2^{15}`:

.. math::
    \mathrm{out} = \frac{x \odot m}{1 - \hat p}, \qquad
    m_i \sim \mathrm{Bernoulli}(1 - \hat p), \qquad \hat p = \frac{\mathrm{round}(p\, 2^{16})}{2^{16}},

unbiased (:math:`\mathbb E[\mathrm{out}] = x`) for the drop rate :math:`\hat p`, which differs
from ``p`` by at most :math:`2^{-17}`. The words come from NumPy's SFC64 generator, in blocks
of :data:`BLOCK_WORDS` words, each block with its own stream (``SeedSequence(seed).spawn``),
filled in parallel on up to ``torch.get_num_threads()`` threads (NumPy releases the GIL): the
same words for any thread count; the mask is compared block by block in the same threads. At
``10^6 × 64`` elements on two threads the mask takes about 40 ms instead of about 105 ms with
torch's serial CPU generator. The seed is one draw from torch's default generator,
so ``torch.manual_seed`` makes the mask reproducible and
:func:`torch.utils.checkpoint.checkpoint`'s replay of the RNG state replays it. Off CPU (where
the device generator is fast) it is ``F.dropout``.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Optional

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from graphcl.errors import GraphclInputError

__all__ = ["dropout"]

_LANES = 4  # 16-bit lanes per 64-bit word
_SCALE = 1 << 16
#: Words per independently seeded block of :func:`random_words` (8 MB).
BLOCK_WORDS = 1 << 20
_POOL: Optional[ThreadPoolExecutor] = None
_POOL_KEY = (0, 0)  # (process id, workers) the pool was made for


def _pool(workers: int) -> ThreadPoolExecutor:
    """The worker threads, made again after a fork (a forked child has none of its parent's
    threads: the parent's pool would wait forever) or when the thread count changes."""
    global _POOL, _POOL_KEY
    key = (os.getpid(), workers)
    if _POOL is None or _POOL_KEY != key:
        if _POOL is not None and _POOL_KEY[0] == key[0]:
            _POOL.shutdown(wait=True)
        _POOL, _POOL_KEY = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="graphcl-rng"), key
    return _POOL


def _each_block(count: int, fn: Callable[[int, int, np.ndarray], None]) -> None:
    """``fn(start, end, words)`` for each block ``[start, end)`` of ``count`` words, ``words`` the
    block's ``end - start`` uniform ``uint64`` draws from its own child stream (SFC64) of one seed
    drawn from torch's default generator; blocks run on up to ``torch.get_num_threads()``
    threads, and the words do not depend on how many."""
    seed = int(torch.randint(0, 1 << 62, (1,), dtype=torch.int64))
    blocks = [(s, min(s + BLOCK_WORDS, count)) for s in range(0, count, BLOCK_WORDS)]
    children = np.random.SeedSequence(seed).spawn(len(blocks))

    def run(i: int) -> None:
        s, e = blocks[i]
        fn(s, e, np.random.SFC64(children[i]).random_raw(e - s))

    workers = min(torch.get_num_threads(), len(blocks))
    if workers <= 1:
        for i in range(len(blocks)):
            run(i)
    else:
        list(_pool(workers).map(run, range(len(blocks))))


def random_words(count: int) -> torch.Tensor:
    """``count`` uniform random 64-bit words (``int64`` CPU tensor), block ``b`` (words
    ``[b·BLOCK_WORDS, (b+1)·BLOCK_WORDS)``) from the ``b``-th child stream of one draw of torch's
    default generator, so the words do not depend on the thread count."""
    out = np.empty(count, dtype=np.uint64)

    def store(s: int, e: int, words: np.ndarray) -> None:
        out[s:e] = words

    _each_block(count, store)
    return torch.from_numpy(out.view(np.int64))


def _keep_mask(shape: torch.Size, threshold: int) -> torch.Tensor:
    """``random_words(ceil(n / 4)).view(int16)[:n].view(shape) >= threshold`` (``n`` elements),
    computed block by block in the worker threads: no ``[n / 4]`` word tensor is kept."""
    n = math.prod(shape)
    keep = torch.empty(n, dtype=torch.bool)

    def compare(s: int, e: int, words: np.ndarray) -> None:
        lo, hi = s * _LANES, min(e * _LANES, n)
        torch.ge(torch.from_numpy(words.view(np.int16))[: hi - lo], threshold, out=keep[lo:hi])

    _each_block((n + _LANES - 1) // _LANES, compare)
    return keep.view(shape)


def dropout(x: Tensor, p: float, training: bool = True) -> Tensor:
    """Dropout of ``x`` with drop probability ``p`` (identity when not ``training`` or ``p == 0``).

    Args:
        x: Any floating tensor.
        p: Drop probability in ``[0, 1)``.
        training: Apply dropout (``False``: return ``x``).

    Returns:
        A tensor of ``x``'s shape: each element zeroed with probability ``p`` (to 2⁻¹⁷) and
        the others scaled by ``1 / (1 - p)``. Autograd keeps a one-byte mask per element.
    """
    if not 0.0 <= p < 1.0:
        raise GraphclInputError(f"dropout probability must be in [0, 1), got {p}")
    if not training or p == 0.0:
        return x
    if x.device.type != "cpu":
        return F.dropout(x, p, True)
    drop = round(p * _SCALE)
    if drop == 0:
        return x
    keep = _keep_mask(x.shape, drop - _SCALE // 2)
    return (x * keep).mul_(_SCALE / (_SCALE - drop))
