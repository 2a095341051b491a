r"""Giving freed heap memory back to the operating system.

Block-wise computations (the chunked losses, k-means distances, the attention's row blocks)
allocate and free many tensors of a few megabytes. glibc's ``malloc`` serves those from its
heap rather than from fresh ``mmap`` pages and keeps the freed pages mapped, so a long run's
resident memory holds freed blocks as well as live tensors: on MEOW's 10⁶-target benchmark
graph several hundred MB. :func:`release_free_heap` asks glibc to return them
(``malloc_trim(0)``: free pages are unmapped, live memory is untouched). It changes no value and
costs milliseconds; elsewhere than glibc it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import sys
from typing import Any, Optional

__all__ = ["release_free_heap"]


@functools.lru_cache(maxsize=None)
def _malloc_trim() -> Optional[Any]:
    """glibc's ``malloc_trim``, looked up once (``None`` where the C library has none)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        fn = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):  # musl and other C libraries have no malloc_trim
        return None
    fn.argtypes, fn.restype = [ctypes.c_size_t], ctypes.c_int
    return fn


def release_free_heap() -> bool:
    """Return the C heap's free pages to the operating system (glibc ``malloc_trim(0)``).

    Returns:
        ``True`` when the call was made (Linux with glibc), ``False`` where it is unavailable.
    """
    fn = _malloc_trim()
    if fn is None:
        return False
    fn(0)
    return True
