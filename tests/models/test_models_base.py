"""The estimator base class: argument checks before any work, seeds, deprecated names, resume
safety, save/load through the registry."""

import warnings

import numpy as np
import pytest
import torch
from sklearn.base import clone

from graphcl.data import planted_partition_graph
from graphcl.errors import GraphclInputError
from graphcl.models import (
    MEOW,
    SCGC,
    AdaMEOW,
    MEOWLinear,
    MEOWReference,
    PamC,
    PamCReference,
    SCGCStar,
    SmoothedSpectral,
    SmoothedSpectralMetaPath,
    available,
    get,
    load_estimator,
    register,
    unregister,
)
from graphcl.models.base import EmbeddingConvergence, GraphclEstimator, Patience, seed_from

TINY = dict(hidden_channels=(8,), embedding_dim=4, pretrain_epochs=0, epochs=2, cache=False, kmeans_n_init=2)


def graph(seed=0, n=60):
    g = planted_partition_graph(n, 3, avg_degree=4.0, p_intra=0.8, num_features=6, sigma=1.0, seed=seed)
    g.y = None
    return g


@pytest.fixture
def no_training(monkeypatch):
    """Fail the test if pretraining (the first work a homogeneous fit does) starts."""
    import graphcl.models.scgc as scgc

    def boom(*args, **kwargs):
        raise AssertionError("training started before the arguments were checked")

    monkeypatch.setattr(scgc, "pretrain_autoencoder", boom)


def test_every_estimator_derives_from_the_base_and_is_registered():
    assert available() == ("scgc", "scgc_star", "pamc", "pamc_reference", "meow", "meow_reference", "meow_linear",
                           "adameow", "spectral", "spectral_metapath")
    for name, cls in zip(available(), (SCGC, SCGCStar, PamC, PamCReference, MEOW, MEOWReference, MEOWLinear, AdaMEOW,
                                       SmoothedSpectral, SmoothedSpectralMetaPath)):
        assert get(name) is cls and issubclass(cls, GraphclEstimator) and cls.method_name == name
    assert get("pamc").family == "homogeneous" and get("meow").family == "heterogeneous"
    with pytest.raises(GraphclInputError, match="unknown method 'nope'.*scgc_star"):
        get("nope")


def test_numpy_integers_are_accepted(one_thread):
    model = SCGCStar(np.int64(3), order=np.int32(2), **{**TINY, "epochs": np.int64(2)}, random_state=np.int64(1))
    model.fit(graph())
    assert model.labels_.shape == (60,) and len(model.loss_history_) == 2


@pytest.mark.parametrize("kwargs, item", [
    (dict(lr="1e-3"), "lr must be a number, got the string '1e-3' .in a YAML file write 1.0e-3"),
    (dict(temperature=0), "temperature must be a finite number > 0"),
    (dict(alpha=-1.0), "alpha must be a finite number >= 0"),
    (dict(beta=float("nan")), "beta must be a finite number >= 0"),
    (dict(order=1.5), "order must be a positive integer"),
    (dict(epochs=True), "epochs must be a non-negative integer"),
    (dict(hidden_channels="32"), "hidden_channels must be an int or a sequence of ints"),
    (dict(hidden_channels=(8, 0)), r"hidden_channels\[1\] must be a positive integer"),
    (dict(batch_size=1), "batch_size must be None or an integer >= 2"),
    (dict(random_state="seed"), "random_state must be an integer in .0, 2\\*\\*32 - 1., None, or a numpy"),
    (dict(random_state=-1), "random_state must be an integer"),
    (dict(device="gpu"), "device must be 'cpu', 'cuda', 'cuda:N' or 'auto', got 'gpu'"),
    (dict(progress="yes"), "progress must be True or False"),
    (dict(influence=1), "influence must be True or False"),
    (dict(max_hours=0), "max_hours must be"),
    (dict(checkpoint_every=0), "checkpoint_every must be a positive integer"),
])
def test_bad_arguments_are_refused_before_any_work(kwargs, item, no_training):
    with pytest.raises(GraphclInputError, match=item):
        SCGCStar(3, **{**TINY, **kwargs}).fit(graph())


def test_pamc_choices_are_checked(no_training):
    with pytest.raises(GraphclInputError, match=r"meta_nodes must be one of \('hard', 'soft'\), got 'fuzzy'"):
        PamC(3, meta_nodes="fuzzy", **TINY).fit(graph())


def test_unusable_checkpoint_or_log_path_fails_before_the_first_epoch(tmp_path, no_training):
    with pytest.raises(GraphclInputError, match="checkpoint .* is a folder"):
        SCGCStar(3, checkpoint=str(tmp_path), **TINY).fit(graph())
    (tmp_path / "file").write_text("x")
    with pytest.raises(GraphclInputError, match="epoch_log .*is a file, not a folder"):
        SCGCStar(3, epoch_log=str(tmp_path / "file" / "log.csv"), **TINY).fit(graph())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]  # nothing written, no .tmp left


def test_hidden_channels_may_be_an_int(one_thread):
    model = SCGC(3, **{**TINY, "hidden_channels": 8}).fit(graph())
    assert repr(model.encoder_) == "MLPEncoder(6-8-4)"
    assert model.embeddings_.shape == (60, 4)


def test_random_state_none_or_generator_gives_a_recorded_seed(one_thread):
    a = SCGCStar(3, **TINY, random_state=None).fit(graph())
    assert isinstance(a.random_state_, int) and 0 <= a.random_state_ < 2**32
    b = SCGCStar(3, **TINY, random_state=a.random_state_).fit(graph())
    np.testing.assert_array_equal(a.labels_, b.labels_)  # the recorded seed reproduces the run
    c = SCGCStar(3, **TINY, random_state=np.random.default_rng(5)).fit(graph())
    assert c.random_state_ == int(np.random.default_rng(5).integers(0, 2**32))
    assert seed_from(np.random.RandomState(0)) == int(np.random.RandomState(0).randint(0, 2**32, dtype=np.int64))


def test_fit_data_y_scikit_learn_style_ignores_y(one_thread):
    g = graph()
    y = torch.arange(60) % 3
    a = SCGCStar(3, **TINY).fit(g, y).labels_
    b = SCGCStar(3, **TINY).fit(g).labels_
    np.testing.assert_array_equal(a, b)
    with pytest.raises(GraphclInputError, match="edge_index must have shape \\[2, num_edges\\], got a 1-D array.*labels"):
        SCGCStar(3, **TINY).fit(g.x, y)
    with pytest.raises(GraphclInputError, match="either a Data or \\(x, edge_index\\)"):
        SCGCStar(3, **TINY).fit(g, g.edge_index)


def test_the_wrong_graph_family_is_named():
    from torch_geometric.data import HeteroData

    h = HeteroData()
    h["a"].x = torch.randn(5, 3)
    with pytest.raises(GraphclInputError, match="homogeneous graph .* got a HeteroData: use MEOW or AdaMEOW"):
        SCGCStar(3, **TINY).fit(h)
    with pytest.raises(GraphclInputError, match="MEOW needs a torch_geometric HeteroData, got Data .*SCGC"):
        MEOW(3).fit(graph())


def test_resume_refuses_a_checkpoint_of_another_graph_of_the_same_size(tmp_path, one_thread):
    path = tmp_path / "ck.pt"
    SCGCStar(3, **TINY, checkpoint=str(path)).fit(graph(seed=0))
    other = graph(seed=1)  # same sizes, other features and edges
    with pytest.raises(GraphclInputError, match="is of another graph"):
        SCGCStar(3, **{**TINY, "epochs": 4}, checkpoint=str(path)).fit(other, resume=path)
    model = SCGCStar(3, **{**TINY, "epochs": 4}, checkpoint=str(path)).fit(graph(seed=0), resume=path)
    assert len(model.loss_history_) == 4


def test_deprecated_names_warn_and_map_onto_the_new_ones():
    with pytest.warns(DeprecationWarning, match="'max_epochs' is deprecated .* use 'epochs'"):
        m = MEOW(3, max_epochs=7)
    assert m.epochs == 7 and "max_epochs" not in m.get_params()
    with pytest.warns(DeprecationWarning, match="'hidden_channels' is deprecated .* use 'embedding_dim'"):
        m = MEOW(3, hidden_channels=16)
    assert m.embedding_dim == 16
    with pytest.warns(DeprecationWarning, match="'max_epochs' is deprecated"):
        a = AdaMEOW(3, max_epochs=9)
    assert a.epochs == 9
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert clone(m).embedding_dim == 16  # clone uses the new names only: no warning
    with pytest.raises(GraphclInputError, match="unexpected argument 'epochz'"):
        SCGCStar(3, epochz=3)


def test_patience_rule():
    p = Patience(2, min_epochs=4)
    stops = [p.update(loss, i + 1) for i, loss in enumerate([5.0, 4.0, 4.0, 4.0, 4.0, 4.0])]
    assert stops == [False, False, False, True, True, True]
    q = Patience(None)
    assert not any(q.update(1.0, i + 1) for i in range(50))


def test_patience_warm_up_waits_for_the_loss_to_fall_on_a_flat_then_falling_loss():
    """A loss flat for 30 epochs (noise of 0.1 %), then falling by 20 %, then flat: without a
    warm-up patience 5 stops on the plateau, untrained; with min_decrease 5 % it stops only
    after the fall, 5 epochs after the last new best."""
    rng = np.random.default_rng(0)
    flat = 10.0 + 0.01 * rng.standard_normal(30)
    falling = np.linspace(10.0, 8.0, 20)
    tail = 8.0 + 0.001 * np.abs(rng.standard_normal(40))
    losses = [float(x) for x in np.concatenate([flat, falling, tail])]

    def stop_epoch(rule):
        for i, loss in enumerate(losses):
            if rule.update(loss, i + 1):
                return i + 1
        return None

    assert stop_epoch(Patience(5)) < 30  # the plateau ends training: the failure the warm-up prevents
    warm = Patience(5, min_decrease=0.05)
    stopped = stop_epoch(warm)
    last_best = int(np.argmin(losses)) + 1
    assert stopped == last_best + 5 and stopped > 50
    assert warm.armed and warm.first == losses[0] and warm.first - warm.best >= 0.05 * warm.first
    never = Patience(5, min_decrease=0.5)  # the loss never falls by half: no stop, training runs to `epochs`
    assert stop_epoch(never) is None and not never.armed
    negative = Patience(2, min_decrease=0.1)  # a negative loss: the fraction is of its magnitude
    assert [negative.update(x, i + 1) for i, x in enumerate([-1.0, -1.05, -1.05, -1.05, -1.2, -1.2, -1.2])] == \
        [False, False, False, False, False, False, True]


def test_patience_state_round_trips_the_first_loss():
    p = Patience(3, min_decrease=0.1)
    for i, x in enumerate([4.0, 3.9, 3.95]):
        p.update(x, i + 1)
    q = Patience(3, min_decrease=0.1)
    q.load_state_dict(p.state_dict())
    assert (q.first, q.best, q.wait) == (4.0, 3.9, 1) and not q.armed
    legacy = Patience(3, min_decrease=0.1)
    legacy.load_state_dict({"best": 3.9, "wait": 1})  # a checkpoint written before min_decrease
    legacy.update(3.8, 4)
    assert legacy.first == 3.8


def test_embedding_convergence_stops_when_the_embedding_stops_moving_not_on_a_noisy_loss():
    """A loss that falls by 20 % in 20 epochs, then sits on noise of 3 % with its minimum early
    (patience 30 would stop at epoch 52); the embedding moves by a shrinking step each epoch.
    The rule checks every 10 epochs and stops at the first check whose drift is below tol, never
    before the loss has fallen by min_decrease nor before min_epochs."""
    rng = np.random.default_rng(0)
    losses = np.concatenate([np.linspace(10.0, 8.0, 20), 8.0 + 0.3 * np.abs(rng.standard_normal(180))])
    losses[21] = 7.0  # a lucky early minimum
    base = torch.randn(64, 8, generator=torch.Generator().manual_seed(0))
    other = torch.randn(64, 8, generator=torch.Generator().manual_seed(1))
    epoch = [0]

    def embed():  # moves along `other` by an angle that shrinks as 1/t^2
        t = epoch[0]
        return base + (50.0 / (1 + t)) * other

    def stop_epoch(rule):
        for i, loss in enumerate(losses):
            epoch[0] = i + 1
            if rule.update(float(loss), i + 1):
                return i + 1
        return None

    def drift(a, b):  # the rule's measure between the embeddings of epochs a and b
        za, zb = base + (50.0 / (1 + a)) * other, base + (50.0 / (1 + b)) * other
        return float(1 - torch.nn.functional.cosine_similarity(za, zb, dim=1).mean())

    assert stop_epoch(Patience(30, min_decrease=0.05)) == 52  # patience reads the lucky minimum
    rule = EmbeddingConvergence(embed, every=10, tol=0.005, min_decrease=0.05)
    stopped = stop_epoch(rule)
    first_below = next(t for t in range(20, 201, 10) if drift(t - 10, t) < 0.005)
    assert stopped == first_below and stopped % 10 == 0 and stopped > 52
    assert [e for e, _ in rule.drifts] == list(range(20, stopped + 1, 10))
    assert rule.drifts[-1][1] == pytest.approx(drift(stopped - 10, stopped), abs=1e-5)
    assert all(d >= 0.005 for _, d in rule.drifts[:-1])
    later = EmbeddingConvergence(embed, every=10, tol=0.005, min_epochs=stopped + 25)
    assert stop_epoch(later) == stopped + 30  # the first check at or after min_epochs
    flat = EmbeddingConvergence(embed, every=10, tol=0.005, min_decrease=0.5)  # the loss never halves
    assert stop_epoch(flat) is None and not flat.armed
    state = rule.state_dict()
    again = EmbeddingConvergence(embed, every=10, tol=0.005, min_decrease=0.05)
    again.load_state_dict(state)
    assert torch.equal(again.previous, rule.previous) and again.drifts == rule.drifts and again.first == rule.first


def test_a_registered_estimator_saves_and_loads_through_the_registry(tmp_path, one_thread):
    @register("throwaway_base_test", family="homogeneous", config=("pamc.yaml", "pamc"))
    class Throwaway(PamC):
        pass

    try:
        assert "throwaway_base_test" in available("homogeneous") and get("throwaway_base_test") is Throwaway
        model = Throwaway(3, **TINY).fit(graph())
        model.save(tmp_path / "m.pt")
        back = load_estimator(tmp_path / "m.pt")
        assert type(back) is Throwaway
        np.testing.assert_array_equal(back.predict(graph().x), model.labels_)
        with pytest.raises(GraphclInputError, match="holds a Throwaway, not a MEOW"):
            MEOW.load(tmp_path / "m.pt")
    finally:
        unregister("throwaway_base_test")
    assert "throwaway_base_test" not in available()
    with pytest.raises(GraphclInputError, match="unknown estimator class 'Throwaway'"):
        load_estimator(tmp_path / "m.pt")


def test_subclasses_forwarding_kwargs_have_their_parents_parameters():
    # a subclass that only changes defaults (MEOWReference, MEOWLinear, AdaMEOW, PamC, ...) forwards
    # **kwargs: scikit-learn's get_params / clone must still see every parameter of the parent
    class Child(MEOW):
        def __init__(self, n_clusters=None, *, temperature: float = 0.25, extra: int = 3, **kwargs):
            super().__init__(n_clusters, temperature=temperature, **kwargs)
            self.extra = extra

    names = Child._get_param_names()
    assert set(names) == set(MEOW._get_param_names()) | {"extra"}
    est = Child(4, lr=0.01, extra=5)
    params = est.get_params()
    assert params["temperature"] == 0.25 and params["lr"] == 0.01 and params["extra"] == 5
    copy = clone(est)
    assert type(copy) is Child and copy.get_params() == params
    # a full signature with **deprecated (aliases only) stops there: no parent parameters
    assert set(MEOW._get_param_names()).isdisjoint({"args", "kwargs", "deprecated"})
    assert set(PamC._get_param_names()) == set(SCGCStar._get_param_names()) | {"meta_nodes", "meta_node_scope",
                                                                                "negatives"}
    assert set(AdaMEOW._get_param_names()) == set(MEOW._get_param_names()) | {"projection_channels", "weight_hidden"}
