import numpy as np
import pytest

from graphcl.errors import GraphclInputError
from graphcl.plot import plot_embeddings, plot_loss, plot_scaling


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


def test_scaling_png_has_one_line_per_run_and_skips_rows_without_a_time(tmp_path):
    rows = [{"m": m, "n": n, "s": t * n / 1e4, "peak_memory_mb": 100 + n / 1e3}
            for m, t in (("a", 1.0), ("b", 3.0)) for n in (10**4, 10**5, 10**6)]
    rows.append({"m": "refused", "n": 10**6, "s": None, "peak_memory_mb": 500.0})
    img, colours = _image(plot_scaling(rows, tmp_path / "s.png", run_key="m", size_key="n", seconds_key="s",
                                       order=["b"]))
    assert img.shape[1] >= 1000 and colours > 3
    import matplotlib.pyplot as plt

    captured = {}
    real = plt.Figure.savefig

    def keep(fig, *args, **kwargs):
        captured["labels"] = [line.get_label() for line in fig.axes[0].get_lines()]
        return real(fig, *args, **kwargs)

    plt.Figure.savefig = keep
    try:
        plot_scaling(rows, tmp_path / "t.png", run_key="m", size_key="n", seconds_key="s", order=["b"])
    finally:
        plt.Figure.savefig = real
    assert captured["labels"] == ["b", "a"]  # ordered runs first; the run without a time has no line


def test_bad_plot_inputs_are_named(tmp_path):
    with pytest.raises(GraphclInputError, match="predicted clusters have 3 entries for 10"):
        plot_embeddings(np.zeros((10, 2)), [0, 1, 2], tmp_path / "a.png")
    with pytest.raises(GraphclInputError, match="NaN"):
        plot_embeddings(np.full((10, 2), np.nan), np.zeros(10), tmp_path / "a.png")
    with pytest.raises(GraphclInputError, match="empty"):
        plot_loss([], tmp_path / "b.png")
