"""Checksum a shipped dataset of either family (:func:`verify_dataset`).

It lives apart from both loaders because it needs both tables: :mod:`graphcl.data.datasets` and
:mod:`graphcl.data.hetero` do not import each other.
"""

from __future__ import annotations

from typing import Optional

from graphcl.data.datasets import dataset_info
from graphcl.data.files import PathLike, resolve_root, verify_folders
from graphcl.data.hetero import hetero_dataset_info

__all__ = ["verify_dataset"]


def verify_dataset(name: str, root: Optional[PathLike] = None, heterogeneous: bool = False) -> list[str]:
    """Checksum every shipped file of a dataset (``acm`` and ``dblp`` exist in both families:
    ``heterogeneous`` selects which).

    Returns:
        The problems found (see :func:`graphcl.data.files.verify_folders`); empty when every file
        matches.

    Raises:
        GraphclInputError: Unknown name, or no data root holds the dataset.
    """
    if heterogeneous:
        info = hetero_dataset_info(name)
        data_root = resolve_root(info, root)
        folders = [f for f in (info.meow_folder, info.heco_folder) if f and (data_root / f).is_dir()]
        return verify_folders(folders, data_root)
    info = dataset_info(name)
    return verify_folders([info.folder], resolve_root(info, root))
