"""graphcl.nn.dropout: the packed-mask CPU dropout against its definition."""

import hashlib

import pytest
import torch

from graphcl.errors import GraphclInputError
from graphcl.nn.dropout import dropout


@pytest.mark.parametrize("p", [0.1, 0.2, 0.5, 0.9])
def test_drop_rate_and_scale(p):
    torch.manual_seed(0)
    x = torch.ones(400_000)
    out = dropout(x, p)
    kept = out != 0
    # the kept fraction is 1 - p within 5 standard deviations of a binomial
    n = x.numel()
    sd = (p * (1 - p) / n) ** 0.5
    assert abs(kept.float().mean().item() - (1 - p)) < 5 * sd
    # kept values are scaled so that the expectation is x
    scale = 65536 / (65536 - round(p * 65536))
    assert torch.allclose(out[kept], torch.full((int(kept.sum()),), scale))
    assert abs(out.mean().item() - 1.0) < 5 * sd / (1 - p)


def test_every_lane_is_uniform():
    # each of the four 16-bit lanes of a word decides a different element: none may be biased
    torch.manual_seed(1)
    out = dropout(torch.ones(400_000, 4), 0.5)
    rates = (out != 0).float().mean(0)
    assert torch.all((rates - 0.5).abs() < 5 * (0.25 / 400_000) ** 0.5), rates


def test_masks_independent_of_position():
    torch.manual_seed(2)
    keep = (dropout(torch.ones(200_000, 2), 0.5) != 0).float()
    # neighbouring elements (same 64-bit word) are uncorrelated
    corr = torch.corrcoef(keep.t())[0, 1]
    assert abs(corr.item()) < 0.02


def test_gradient_is_the_mask_times_scale():
    torch.manual_seed(3)
    x = torch.randn(50, 7, requires_grad=True)
    out = dropout(x, 0.3)
    out.sum().backward()
    scale = 65536 / (65536 - round(0.3 * 65536))
    assert torch.allclose(x.grad, (out != 0).float() * scale)
    assert torch.allclose(out, x.detach() * x.grad)


def test_identity_and_reproducibility():
    x = torch.randn(10, 3)
    assert dropout(x, 0.5, training=False) is x
    assert dropout(x, 0.0) is x
    torch.manual_seed(4)
    a = dropout(x, 0.5)
    torch.manual_seed(4)
    b = dropout(x, 0.5)
    assert torch.equal(a, b)
    c = dropout(x, 0.5)
    assert not torch.equal(a, c)
    for bad in (-0.1, 1.0, 1.5):
        with pytest.raises(GraphclInputError):
            dropout(x, bad)


def test_non_contiguous_input_and_dtype():
    torch.manual_seed(5)
    x = torch.randn(64, 32, dtype=torch.float64).t()
    out = dropout(x, 0.25)
    assert out.shape == x.shape and out.dtype == torch.float64
    kept = out != 0
    assert torch.allclose(out[kept], x[kept] * 65536 / (65536 - 16384))


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_uses_torch_dropout():
    torch.manual_seed(6)
    x = torch.ones(1000, device="cuda")
    out = dropout(x, 0.5)
    assert out.device.type == "cuda" and set(out.unique().tolist()) <= {0.0, 2.0}


def test_words_do_not_depend_on_the_thread_count():
    """Blocks are seeded streams of one torch draw: the same words (and masks) on 1 or 2 threads."""
    from graphcl.nn.dropout import BLOCK_WORDS, _keep_mask, random_words

    count = 2 * BLOCK_WORDS + 12345  # three blocks, the last one partial
    threads = torch.get_num_threads()
    try:
        out = {}
        for t in (1, 2):
            torch.set_num_threads(t)
            torch.manual_seed(7)
            out[t] = (random_words(count), _keep_mask(torch.Size([count, 3]), -1000))
    finally:
        torch.set_num_threads(threads)
    assert torch.equal(out[1][0], out[2][0]) and torch.equal(out[1][1], out[2][1])
    # the mask is the words' 16-bit lanes against the threshold, lane by lane
    torch.manual_seed(7)
    random_words(count)  # the first draw, as above
    words = random_words((count * 3 + 3) // 4)
    assert torch.equal(out[1][1], words.view(torch.int16)[: count * 3].view(count, 3) >= -1000)
    # blocks are different streams (not the same block repeated)
    w = out[1][0]
    assert not torch.equal(w[:1000], w[BLOCK_WORDS:BLOCK_WORDS + 1000])
    # the mask consumes exactly one draw of torch's generator, so checkpoint's RNG replay replays it
    torch.manual_seed(8)
    _keep_mask(torch.Size([10]), 0)
    after = torch.randint(0, 100, (3,))
    torch.manual_seed(8)
    torch.randint(0, 1 << 62, (1,), dtype=torch.int64)
    assert torch.equal(after, torch.randint(0, 100, (3,)))


def _child_words(queue):
    from graphcl.nn.dropout import random_words

    torch.set_num_threads(2)
    torch.manual_seed(9)
    queue.put(hashlib.sha1(random_words(3 * 2**20 + 5).numpy().tobytes()).hexdigest())  # no torch kernel


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs fork")
def test_words_in_a_forked_child_after_the_parent_used_the_pool():
    """A forked child has none of its parent's threads: it makes its own pool instead of waiting
    forever on the parent's, and draws the same words as the parent would. (Only the words: torch's
    own parallel kernels are not fork-safe once the parent has used them, whatever graphcl does.)"""
    import multiprocessing as mp

    from graphcl.nn.dropout import random_words

    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        random_words(3 * 2**20)  # the parent's pool exists now
        torch.manual_seed(9)
        expected = hashlib.sha1(random_words(3 * 2**20 + 5).numpy().tobytes()).hexdigest()
    finally:
        torch.set_num_threads(threads)
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child_words, args=(queue,))
    proc.start()
    proc.join(timeout=60)
    if proc.is_alive():
        proc.kill()
        pytest.fail("the forked child hung on the parent's thread pool")
    assert proc.exitcode == 0 and queue.get(timeout=5) == expected
