import numpy as np
import pytest

from graphcl.errors import GraphclInputError
from graphcl.plot import plot_embeddings, plot_loss


def _image(path):
    import matplotlib.image as mpimg

    img = mpimg.imread(path)
    colours = np.unique((img[..., :3] * 255).astype(np.uint8).reshape(-1, 3), axis=0)
    return img, len(colours)


def test_tsne_png_is_large_and_coloured(tmp_path):
    rng = np.random.default_rng(0)
    y = np.arange(90) % 3
    emb = rng.normal(size=(90, 8)) + 4 * np.eye(8)[y]
    path = plot_embeddings(emb, y, tmp_path / "tsne.png", true_labels=(y + 1) % 3, title="t")
    img, colours = _image(path)
    assert img.shape[0] >= 200 and img.shape[1] >= 200 and colours > 2


def test_loss_png(tmp_path):
    history = [{"loss": 1.0 / (e + 1), "kl": 0.1, "contrast": 0.9 / (e + 1)} for e in range(20)]
    img, colours = _image(plot_loss(history, tmp_path / "loss.png"))
    assert img.shape[0] >= 200 and img.shape[1] >= 200 and colours > 2


def test_bad_plot_inputs_are_named(tmp_path):
    with pytest.raises(GraphclInputError, match="predicted clusters have 3 entries for 10"):
        plot_embeddings(np.zeros((10, 2)), [0, 1, 2], tmp_path / "a.png")
    with pytest.raises(GraphclInputError, match="NaN"):
        plot_embeddings(np.full((10, 2), np.nan), np.zeros(10), tmp_path / "a.png")
    with pytest.raises(GraphclInputError, match="empty"):
        plot_loss([], tmp_path / "b.png")
