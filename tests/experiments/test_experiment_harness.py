"""The reproduction harness: configs, the JSON contract, table generation, the CLI end to end."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from graphcl import GraphclInputError
from graphcl.data import load_dataset
from graphcl.experiment import (
    PROVENANCE_KEYS,
    environment,
    load_config,
    machine,
    parse_overrides,
    summarize,
    unpack_labels,
    write_result,
)
from graphcl.metrics import evaluate_clustering

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "experiments"))
import make_tables  # noqa: E402

# Hang guard of every script started here: many times the idle duration (the slowest, MEOW on
# Freebase for 2 epochs, takes well under a minute idle; a loaded 2-core machine was seen 8x
# slower). Subprocesses run with one torch thread each, so tests started side by side do not
# oversubscribe the cores.
TIMEOUT = 1800
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def test_config_default_block_and_dataset_override(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("m:\n  default: {a: 1, b: 2}\n  ds: {b: 3}\n")
    assert load_config(cfg, "m", "ds") == {"a": 1, "b": 3}
    assert load_config(cfg, "m", "unseen") == {"a": 1, "b": 2}
    with pytest.raises(GraphclInputError, match="method"):
        load_config(cfg, "other", "ds")
    with pytest.raises(GraphclInputError, match="does not exist"):
        load_config(tmp_path / "missing.yaml", "m", "ds")


def test_shipped_config_holds_reference_values_only_for_reference_datasets():
    path = ROOT / "experiments" / "configs" / "scgc.yaml"
    star_usps = load_config(path, "scgc_star", "usps")
    assert (star_usps["alpha"], star_usps["order"], star_usps["temperature"]) == (4.0, 4, 4.0)
    # cora and photo have no published values: they get the default block unchanged
    assert load_config(path, "scgc_star", "cora") == load_config(path, "scgc_star", "photo")


def run(seed, acc):
    return {"seed": seed, "acc": acc, "nmi": acc, "ari": acc, "f1": acc, "train_seconds": 1.0}


def test_machine_and_environment_name_the_runs_gpu(monkeypatch):
    """On a multi-GPU host a run on ``cuda:1`` records GPU 1's name, not GPU 0's (faked CUDA)."""
    import torch

    names = {0: "GPU zero", 1: "GPU one"}
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda d=None: names[torch.device(d).index or 0])
    env = environment("cuda:1")
    assert env["gpu"] == "GPU one" and env["machine"].endswith(", GPU one") and env["device"] == "cuda:1"
    assert machine("cuda:0").endswith(", GPU zero") and not any(n in machine("cpu") for n in names.values())


def test_write_result_contract_and_seed_merging(tmp_path):
    out = tmp_path / "r.json"
    write_result(out, method="m", dataset="d", config={"a": 1}, runs=[run(0, 0.5), run(1, 0.7)], started_at="t")
    res = json.loads(out.read_text())
    assert all(k in res for k in PROVENANCE_KEYS)
    assert res["mean"]["acc"] == pytest.approx(0.6) and res["std"]["acc"] == pytest.approx(0.1)
    # a later session adds seeds of the same configuration
    write_result(out, method="m", dataset="d", config={"a": 1}, runs=[run(2, 0.9)], started_at="t2")
    res = json.loads(out.read_text())
    assert [r["seed"] for r in res["runs"]] == [0, 1, 2] and res["mean"]["acc"] == pytest.approx(0.7)
    # each new run records the machine it ran on; a kept run keeps its own record
    assert {r["machine"] for r in res["runs"]} == {machine()} and machine().endswith(f"{os.cpu_count()} CPUs")
    res["runs"][0]["machine"] = "another CPU, AVX512, 8 CPUs"
    out.write_text(json.dumps(res))
    write_result(out, method="m", dataset="d", config={"a": 1}, runs=[run(3, 0.9)], started_at="t2")
    runs = json.loads(out.read_text())["runs"]
    assert [r["machine"] for r in runs] == ["another CPU, AVX512, 8 CPUs", machine(), machine(), machine()]
    assert "machine" not in json.loads(out.read_text())["mean"]  # a string, never averaged
    # a changed configuration starts over
    write_result(out, method="m", dataset="d", config={"a": 2}, runs=[run(5, 0.1)], started_at="t3")
    assert [r["seed"] for r in json.loads(out.read_text())["runs"]] == [5]
    assert summarize([run(0, 1.0)])[1]["acc"] == 0.0


def test_write_result_starts_over_when_the_recorded_estimator_arguments_changed(tmp_path):
    """A changed estimator default does not show in ``config``: runs that recorded other
    ``estimator_params`` (the seed's random_state aside) are not merged; runs without the record are."""
    out = tmp_path / "r.json"

    def with_params(seed, acc, spherical):
        return {**run(seed, acc), "estimator_params": {"random_state": seed, "spherical_kmeans": spherical}}

    write_result(out, method="m", dataset="d", config={"a": 1}, runs=[run(0, 0.5), with_params(1, 0.7, True)], started_at="t")
    write_result(out, method="m", dataset="d", config={"a": 1}, runs=[with_params(2, 0.9, True)], started_at="t2")
    assert [r["seed"] for r in json.loads(out.read_text())["runs"]] == [0, 1, 2]  # same arguments, other seeds: merged
    write_result(out, method="m", dataset="d", config={"a": 1}, runs=[with_params(3, 0.2, False)], started_at="t3")
    res = json.loads(out.read_text())
    assert [r["seed"] for r in res["runs"]] == [3] and res["mean"]["acc"] == pytest.approx(0.2)
    # an estimator argument added since (recorded by the new run only) does not make the runs differ
    newer = {**run(4, 0.4), "estimator_params": {"random_state": 4, "spherical_kmeans": False, "clustering": "kmeans"}}
    write_result(out, method="m", dataset="d", config={"a": 1}, runs=[newer], started_at="t4")
    assert [r["seed"] for r in json.loads(out.read_text())["runs"]] == [3, 4]


def test_make_tables_refuses_files_without_provenance(tmp_path):
    (tmp_path / "scgc").mkdir()
    (tmp_path / "scgc" / "usps.json").write_text(json.dumps({"method": "scgc", "dataset": "usps", "runs": []}))
    with pytest.raises(SystemExit, match="provenance"):
        make_tables.load_results(tmp_path)


def test_make_tables_renders_committed_style_json(tmp_path):
    out = tmp_path / "kmeans" / "usps.json"
    write_result(out, method="kmeans", dataset="usps", config={}, runs=[run(0, 0.6), run(1, 0.7)], started_at="t")
    text = make_tables.make_tables(make_tables.load_results(tmp_path), {"kmeans": {"usps": [{"acc": 0.66, "nmi": None, "key": "k"}]}, "_sources": {"k": "src"}})
    assert "## usps" in text and "0.6500 ± 0.0500" in text and "0.6600 / – [k]" in text and "**[k]** src" in text


def test_scgc_script_kmeans_baseline_end_to_end(tmp_path):
    out = tmp_path / "res.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "experiments" / "scgc.py"), "--method", "kmeans_smoothed", "--dataset", "dblp",
         "--seeds", "0", "1", "--out", str(out)],
        capture_output=True, text=True, timeout=TIMEOUT, env=ENV,
    )
    assert proc.returncode == 0, proc.stderr
    res = json.loads(out.read_text())
    assert [r["seed"] for r in res["runs"]] == [0, 1]
    assert 0.0 <= res["mean"]["acc"] <= 1.0 and res["runs"][0]["peak_memory_mb"] > 0
    assert "ACC" in proc.stdout


def test_scgc_script_reports_bad_dataset_without_traceback(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(ROOT / "experiments" / "scgc.py"), "--method", "kmeans", "--dataset", "nope",
         "--seeds", "0", "--out", str(tmp_path / "x.json")],
        capture_output=True, text=True, timeout=TIMEOUT, env=ENV,
    )
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr and "nope" in proc.stderr


def test_summarize_uses_keys_every_run_has():
    mean, _ = summarize([{**run(0, 0.5), "extra": 1.0}, run(1, 0.7)])
    assert "extra" not in mean and mean["acc"] == pytest.approx(0.6)


def test_pamc_script_trains_and_writes_soft_variant_to_its_own_folder(tmp_path):
    env = {**ENV, "GRAPHCL_CACHE": str(tmp_path / "cache")}
    cfg = tmp_path / "pamc.yaml"
    # the shipped config with a small network, so the test is quick
    text = (ROOT / "experiments" / "configs" / "pamc.yaml").read_text()
    cfg.write_text(text.replace("hidden_channels: [500, 500, 2000]", "hidden_channels: [32]")
                   .replace("pretrain_epochs: 30", "pretrain_epochs: 2"))
    out = tmp_path / "soft.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "experiments" / "pamc.py"), "--dataset", "cora", "--seeds", "0",
         "--meta-nodes", "soft", "--epochs", "3", "--config", str(cfg), "--out", str(out)],
        capture_output=True, text=True, timeout=TIMEOUT, env=env,
    )
    assert proc.returncode == 0, proc.stderr
    res = json.loads(out.read_text())
    assert res["method"] == "pamc_soft" and res["config"]["meta_nodes"] == "soft" and res["config"]["epochs"] == 3
    assert res["config"]["alpha"] == 2.0 and res["config"]["order"] == 1  # cora has no reference block: default
    assert 0.0 <= res["runs"][0]["acc"] <= 1.0 and res["runs"][0]["final_loss"] == res["runs"][0]["final_loss"]


def test_pamc_config_holds_the_reference_values():
    cfg = load_config(ROOT / "experiments" / "configs" / "pamc.yaml", "pamc", "usps")
    assert (cfg["alpha"], cfg["beta"], cfg["order"], cfg["temperature"], cfg["lr"]) == (2.0, 2.0, 4, 2.0, 1e-3)
    cfg = load_config(ROOT / "experiments" / "configs" / "pamc.yaml", "pamc", "dblp")
    assert (cfg["alpha"], cfg["beta"], cfg["order"], cfg["temperature"]) == (2.0, 2.0, 1, 1.0)
    assert cfg["meta_nodes"] == "hard"


def test_summarize_nested_classification_block():
    runs = [{**run(s, 0.5 + s / 10), "classification": {"20": {"macro_f1": 0.8 + s / 10}}} for s in (0, 1)]
    mean, std = summarize(runs)
    assert mean["classification"]["20"]["macro_f1"] == pytest.approx(0.85)
    assert std["classification"]["20"]["macro_f1"] == pytest.approx(0.05)


def test_meow_script_end_to_end_and_heterogeneous_table(tmp_path):
    cfg = tmp_path / "meow.yaml"
    text = (ROOT / "experiments" / "configs" / "meow.yaml").read_text()
    cfg.write_text(text.replace("num_prototypes: [500, 700]", "num_prototypes: [20, 40]"))  # quick default block
    out = tmp_path / "results" / "meow" / "freebase.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "experiments" / "meow.py"), "--method", "meow", "--dataset", "freebase", "--seeds", "0",
         "--epochs", "2", "--config", str(cfg), "--out", str(out)],
        capture_output=True, text=True, timeout=TIMEOUT, env=ENV,
    )
    assert proc.returncode == 0, proc.stderr
    res = json.loads(out.read_text())
    assert res["family"] == "heterogeneous" and res["config"]["epochs"] == 2 and res["runs"][0]["epochs"] == 2
    assert res["config"]["top_k"] == 70  # freebase has no reference block: the default
    for ratio in ("20", "40", "60"):
        c = res["runs"][0]["classification"][ratio]
        assert all(0.0 <= c[k] <= 1.0 for k in ("macro_f1", "micro_f1", "auc"))
    assert set(PROVENANCE_KEYS) <= set(res)
    params = res["runs"][0]["estimator_params"]  # the estimator's own defaults are recorded per seed
    assert params["spherical_kmeans"] is False and params["pathsim_ties"] == "seeded" and params["top_k"] == 70
    assert params["random_state"] == 0 and params["epochs"] == 2
    # an ablation (--set) goes to its own file and its own labelled row, never into MEOW's
    ablation = tmp_path / "results" / "ablations" / "meow_freebase_top_k-5.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "experiments" / "meow.py"), "--method", "meow", "--dataset", "freebase", "--seeds", "1",
         "--epochs", "2", "--config", str(cfg), "--set", "top_k=5", "--out", str(ablation)],
        capture_output=True, text=True, timeout=TIMEOUT, env=ENV,
    )
    assert proc.returncode == 0, proc.stderr
    abl = json.loads(ablation.read_text())
    assert abl["overrides"] == {"top_k": 5} and abl["config"]["top_k"] == 5 and abl["runs"][0]["seed"] == 1
    assert json.loads(out.read_text())["config"]["top_k"] == 70  # MEOW's file untouched
    text = make_tables.make_tables(make_tables.load_results(tmp_path / "results"), {})
    # († marks a file written from a tree with uncommitted changes: legacy provenance)
    assert "## freebase (heterogeneous)" in text and re.search(r"\| MEOW†? \| 0 \(partial: 1/5\) \|", text)
    assert len(re.findall(r"\| MEOW, top_k=5 \(ablation\)†? \| 1 \|", text)) == 2  # classification and clustering
    assert all(r["git_commit"] and r["started_at"] and "--seeds 1" in r["command"] for r in abl["runs"])
    assert "Rows marked *(ablation)*" in text


def test_parse_overrides_reads_yaml_values_and_rejects_unknown_keys():
    cfg = {"patience": 30, "top_k": [110, 700], "temperature": 0.4}
    assert parse_overrides(["patience=20", "top_k=[70, 70]", "temperature=1e-1"], cfg) == {
        "patience": 20, "top_k": [70, 70], "temperature": 0.1}
    with pytest.raises(GraphclInputError, match="KEY=VALUE"):
        parse_overrides(["patience"], cfg)
    with pytest.raises(GraphclInputError, match="not a key of this config block"):
        parse_overrides(["patiense=20"], cfg)
    assert parse_overrides(["min_epochs=45"], cfg, extra_keys=["min_epochs"]) == {"min_epochs": 45}
    with pytest.raises(GraphclInputError, match="not a valid YAML value"):
        parse_overrides(["top_k=[70"], cfg)


def test_meow_script_refuses_an_ablation_over_the_default_results_file():
    default = ROOT / "experiments" / "results" / "meow" / "acm.json"
    before = default.read_bytes()
    for extra, message in ((["--out", str(default)], "give --out another file"), ([], "not a key of this config block")):
        pair = "patience=20" if extra else "patiense=20"
        proc = subprocess.run(
            [sys.executable, str(ROOT / "experiments" / "meow.py"), "--method", "meow", "--dataset", "acm", "--seeds", "0",
             "--set", pair, *extra], capture_output=True, text=True, timeout=TIMEOUT, env=ENV,
        )
        assert proc.returncode == 1 and message in proc.stderr and "Traceback" not in proc.stderr
    assert default.read_bytes() == before


def test_meow_script_rejects_raw_kmeans_on_a_featureless_target(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(ROOT / "experiments" / "meow.py"), "--method", "kmeans", "--dataset", "freebase", "--seeds", "0",
         "--out", str(tmp_path / "k.json")], capture_output=True, text=True, timeout=TIMEOUT, env=ENV,
    )
    assert proc.returncode != 0 and "only kmeans_smoothed applies" in proc.stderr and "Traceback" not in proc.stderr


def test_meow_config_holds_the_reference_values():
    path = ROOT / "experiments" / "configs" / "meow.yaml"
    acm = load_config(path, "meow", "acm")
    assert (acm["temperature"], acm["top_k"], acm["num_prototypes"], acm["lr"], acm["patience"]) == (0.4, [110, 700], [100, 300], 7e-4, 30)
    ada = load_config(path, "adameow", "aminer")
    assert (ada["projection_channels"], ada["top_k"], ada["epochs"], ada["dropout"]) == (16, [8, 31], 3000, 0.0)


def _small_config(tmp_path, name: str):
    """``configs/<name>`` with a 16-unit encoder and one pretraining epoch, in ``tmp_path``."""
    cfg = tmp_path / name
    text = (ROOT / "experiments" / "configs" / name).read_text()
    cfg.write_text(text.replace("hidden_channels: [500, 500, 2000]", "hidden_channels: [16]")
                   .replace("pretrain_epochs: 30", "pretrain_epochs: 1"))
    return cfg


def _run_script(script: str, tmp_path, *args):
    """``python experiments/<script> ARGS`` with a private cache; asserts it succeeded."""
    proc = subprocess.run([sys.executable, str(ROOT / "experiments" / script), *map(str, args)],
                          capture_output=True, text=True, timeout=TIMEOUT,
                          env={**ENV, "GRAPHCL_CACHE": str(tmp_path / "cache")})
    assert proc.returncode == 0, proc.stderr


def test_selected_script_runs_the_grid_on_the_default_block_and_records_it(tmp_path):
    cfg = _small_config(tmp_path, "scgc.yaml")
    out = tmp_path / "sel.json"
    _run_script("selected.py", tmp_path, "--dataset", "usps", "--seeds", "0", "--epochs", "2", "--config", cfg,
                "--combine", "best", "--out", out)
    res = json.loads(out.read_text())
    default = load_config(cfg, "scgc_star", "default")
    assert res["method"] == "selected_best" and res["config"]["criterion"] == "silhouette" and "combine" not in res["config"]
    assert res["config"]["order"] == default["order"] != 4  # usps's published order 4 is not used: an unseen graph's block
    sel = res["runs"][0]["selection"]
    assert len(sel["grid"]) == 6 and sum(g["chosen"] for g in sel["grid"]) == 1
    # each grid point scored against y after the choice (the criterion study), the chosen one as the run
    chosen = next(g for g in sel["grid"] if g["chosen"])
    assert chosen["evaluation"]["acc"] == res["runs"][0]["acc"]
    assert all(0.0 <= g["evaluation"]["nmi"] <= 1.0 for g in sel["grid"])
    # every grid point's partition is kept (packed), and it is the one its evaluation scored
    y = load_dataset("usps").y.numpy()
    for g in sel["grid"]:
        labels = unpack_labels(g["labels"])
        assert labels.shape == y.shape and evaluate_clustering(y, labels)["acc"] == g["evaluation"]["acc"]
    # the run's own label-free scores, as every homogeneous run records them
    assert res["runs"][0]["label_free"]["modularity"] == pytest.approx(chosen["modularity"])
    assert res["runs"][0]["command"].endswith("--seeds 0 --epochs 2 --config " + str(cfg) + " --combine best --out " + str(out))


def test_selected_script_consensus_scores_the_consensus_of_the_grid(tmp_path):
    import numpy as np
    from sklearn.metrics import normalized_mutual_info_score

    cfg = _small_config(tmp_path, "scgc.yaml")
    out = tmp_path / "cons.json"
    _run_script("selected.py", tmp_path, "--dataset", "cora", "--seeds", "0", "--epochs", "2", "--config", cfg,
                "--out", out)  # the default
    res = json.loads(out.read_text())
    run = res["runs"][0]
    assert res["config"]["combine"] == "consensus" and run["command"].endswith("--seeds 0 --epochs 2 --config " + str(cfg) + " --out " + str(out))
    sel = run["selection"]
    assert sel["combine"] == "consensus" and sel["consensus"]["members"] == len(sel["grid"]) == 6
    # the run is scored on the consensus (recomputed here from the packed grid partitions), not on the chosen point
    from graphcl.cluster import consensus_clustering

    grid = [unpack_labels(g["labels"]) for g in sel["grid"]]
    k = int(load_dataset("cora").y.max()) + 1
    labels = consensus_clustering(grid, k, 0, load_config(cfg, "scgc_star", "default").get("kmeans_n_init", 20))
    y = load_dataset("cora").y.numpy()
    assert run["acc"] == evaluate_clustering(y, labels)["acc"] and run["n_predicted_clusters"] == len(np.unique(labels))
    assert [normalized_mutual_info_score(g, labels) for g in grid] == pytest.approx(sel["consensus"]["member_nmi"])


def test_selected_script_default_and_folders_follow_graphcl_selection():
    import argparse

    import selected

    from graphcl.selection import COMBINE, DEFAULT_CRITERION, SELECT_CRITERIA

    assert selected.DEFAULT_CRITERION == DEFAULT_CRITERION and set(selected.CRITERIA) == set(SELECT_CRITERIA)
    folders = {}
    for method in ("scgc_star", "pamc"):
        for criterion in (DEFAULT_CRITERION, "modularity"):
            for combine in COMBINE:
                args = argparse.Namespace(method=method, config=None, epochs=None, criterion=criterion, combine=combine,
                                          restarts=1)
                cfg, folder, flags = selected.adjust(args, {})
                assert cfg["criterion"] == criterion and flags == ["--criterion", criterion, "--combine", combine]
                # recorded unless "best": the files written before the option (all "best") stay comparable
                assert cfg.get("combine") == (None if combine == "best" else combine)
                folders[method, criterion, combine] = folder
    assert tuple(selected.COMBINE) == tuple(COMBINE) and COMBINE[0] == "consensus"
    assert folders == {("scgc_star", DEFAULT_CRITERION, "consensus"): "selected",
                       ("scgc_star", DEFAULT_CRITERION, "best"): "selected_best",
                       ("scgc_star", "modularity", "consensus"): "selected_modularity",
                       ("scgc_star", "modularity", "best"): "selected_modularity_best",
                       ("pamc", DEFAULT_CRITERION, "consensus"): "selected_pamc",
                       ("pamc", DEFAULT_CRITERION, "best"): "selected_pamc_best",
                       ("pamc", "modularity", "consensus"): "selected_pamc_modularity",
                       ("pamc", "modularity", "best"): "selected_pamc_modularity_best"}
    args = argparse.Namespace(method="scgc_star", config=None, epochs=None, criterion=DEFAULT_CRITERION,
                              combine="consensus", restarts=3)
    cfg, folder, flags = selected.adjust(args, {})
    assert folder == "selected_restarts3" and cfg["restarts"] == 3 and flags[-2:] == ["--restarts", "3"]


def test_restarts_script_keeps_the_best_restart_and_records_every_one(tmp_path):
    cfg = _small_config(tmp_path, "pamc.yaml")
    out = tmp_path / "rs.json"
    _run_script("restarts.py", tmp_path, "--method", "pamc", "--dataset", "cora", "--seeds", "1", "--epochs", "2",
                "--restarts", "2", "--config", cfg, "--out", out)
    res = json.loads(out.read_text())
    assert res["method"] == "pamc_restarts2"
    assert res["config"]["order"] == load_config(cfg, "pamc", "cora")["order"]  # the usual config block
    run = res["runs"][0]
    rs = run["restarts"]
    assert rs["criterion"] == "modularity" and [r["seed"] for r in rs["restarts"]] == [2, 3]
    chosen = [r for r in rs["restarts"] if r["chosen"]]
    assert len(chosen) == 1 and chosen[0]["modularity"] == max(r["modularity"] for r in rs["restarts"])
    # each restart scored against y after the choice; the kept one is the run
    assert chosen[0]["evaluation"]["acc"] == run["acc"]
    assert run["label_free"]["modularity"] == pytest.approx(chosen[0]["modularity"])
    assert all(unpack_labels(r["labels"]).shape == (load_dataset("cora").num_nodes,) for r in rs["restarts"])


def test_restart_rows_are_labelled_with_their_count_and_criterion():
    assert make_tables.method_label("pamc_restarts5") == "PamC, best of 5 restarts by modularity"
    assert make_tables.method_label("scgc_star_restarts3_conductance") == "SCGC*, best of 3 restarts by conductance"
    assert make_tables.method_label("pamc") == "PamC" and make_tables.method_label("other") == "other"


def test_selection_study_measures_how_each_criterion_orders_the_grid():
    def point(mod, cond, sil, acc):
        return {"modularity": mod, "conductance": cond, "silhouette": sil, "evaluation": {"acc": acc, "nmi": acc / 2}}

    # modularity orders the points like ACC, conductance (lower is better) exactly backwards,
    # silhouette is constant: no correlation can be computed
    grid = [point(0.1, 0.1, 0.5, 0.5), point(0.3, 0.3, 0.5, 0.7), point(0.2, 0.2, 0.5, 0.6)]
    study = make_tables.selection_study([grid, grid])
    assert study["modularity"]["rho_acc"] == pytest.approx(1.0) and study["modularity"]["acc"] == 0.7
    assert study["conductance"]["rho_nmi"] == pytest.approx(-1.0) and study["conductance"]["acc"] == 0.5
    assert study["silhouette"]["rho_acc"] is None and study["silhouette"]["acc"] == 0.5  # first of equals
    assert study["best"]["acc"] == 0.7 and study["first"]["nmi"] == 0.25


def test_pooled_selection_study_counts_each_grid_against_its_first_point():
    def point(mod, sil, acc, gain=None):
        p = {"modularity": mod, "conductance": 1 - mod, "silhouette": sil, "evaluation": {"acc": acc, "nmi": acc}}
        return p if gain is None else {**p, "modularity_gain": gain}

    # grid a: modularity picks the best point, silhouette the first; grid b: the other way round
    a = [point(0.1, 0.9, 0.5, gain=0.0), point(0.3, 0.1, 0.8, gain=0.2), point(0.2, 0.2, 0.6, gain=0.1)]
    b = [point(0.3, 0.1, 0.6), point(0.1, 0.9, 0.7), point(0.2, 0.5, 0.65)]
    pooled = make_tables.pooled_selection_study([a, b])
    assert pooled["modularity"]["grids"] == 2 and pooled["modularity"]["better"] == 1
    assert pooled["modularity"]["acc_vs_first"] == pytest.approx((0.3 + 0.0) / 2)
    assert pooled["silhouette"]["acc_vs_first"] == pytest.approx((0.0 + 0.1) / 2) and pooled["silhouette"]["better"] == 1
    assert pooled["modularity_gain"]["grids"] == 1 and pooled["modularity_gain"]["rho_acc"] == pytest.approx(1.0)
    lines = make_tables.selection_tables({("selected", "cora"): {"runs": [{"selection": {"grid": a}}, {"selection": {"grid": b}}]}})
    assert "| modularity_gain | 1 | +1.00 | +0.3000 | 1/1 |" in lines


def test_temperature_and_first_stage_studies_read_each_stage():
    def point(h, r, t, sil, mod, acc):
        return {"input_hops": h, "order": r, "temperature": t, "silhouette": sil, "modularity": mod, "conductance": 0.5,
                "evaluation": {"acc": acc, "nmi": acc}}

    # seed grid 1: stage 1 at T=4 keeps (0, 1) by silhouette, (2, 1) by modularity; its T stage (0, 1): 2, 4, 8
    a = [point(0, 1, 4.0, 0.8, 0.3, 0.60), point(2, 1, 4.0, 0.5, 0.4, 0.70),
         point(0, 1, 2.0, 0.6, 0.5, 0.65), point(0, 1, 8.0, 0.9, 0.2, 0.55)]
    # seed grid 2: silhouette rises again, and so does ACC
    b = [point(0, 1, 4.0, 0.7, 0.3, 0.80), point(0, 3, 4.0, 0.9, 0.2, 0.70),
         point(0, 3, 2.0, 0.5, 0.4, 0.60), point(0, 3, 8.0, 0.95, 0.1, 0.75)]
    first = make_tables.first_stage_study([a, b])
    assert first["silhouette"] == {"grids": 2, "keeps_first": 1} and first["modularity"]["keeps_first"] == 1
    temps = make_tables.temperature_study([a, b])
    assert temps["silhouette"]["stages"] == 2 and temps["silhouette"]["rises"] == 2
    assert temps["silhouette"]["picks_largest"] == 2 and temps["silhouette"]["picks_smallest"] == 0
    assert temps["modularity"]["falls"] == 2 and temps["modularity"]["picks_smallest"] == 2
    assert temps["silhouette"]["acc_vs_base"] == pytest.approx(((0.55 - 0.60) + (0.75 - 0.70)) / 2)
    assert temps["acc"]["rises"] == 1 and temps["acc"]["falls"] == 1  # ACC 0.65, 0.60, 0.55 and 0.60, 0.70, 0.75
    assert temps["acc"]["picks_largest"] == 1 and temps["acc"]["picks_smallest"] == 1
    lines = make_tables.selection_tables({("selected", "cora"): {"runs": [{"selection": {"grid": a}},
                                                                            {"selection": {"grid": b}}]}})
    text = "\n".join(lines)
    assert "silhouette keeps the largest temperature on every stage recorded" in text
    assert "modularity keeps the smallest temperature on every stage recorded" in text
    assert "silhouette 1/2" in text


def test_restart_tables_rank_seeds_by_each_recorded_score():
    def run(seed, loss, mod, acc):
        return {"seed": seed, "final_loss": loss, "acc": acc, "nmi": acc,
                "label_free": {"modularity": mod, "conductance": 1 - mod, "silhouette": 0.1}}

    runs = [run(0, 1.0, 0.5, 0.9), run(1, 0.5, 0.3, 0.6), run(2, 0.7, 0.4, 0.7)]
    lines = make_tables.restart_tables({("scgc_star", "usps"): {"runs": runs}, ("kmeans", "usps"): {"runs": runs}})
    rows = {line.split(" | ")[3]: line.split(" | ") for line in lines if line.startswith("| SCGC")}
    assert len(rows) == 4  # k-means rows are not restarts of a trained model
    assert rows["training loss"][4] == "-1.00" and rows["training loss"][6] == "0.6000"  # lowest loss: the worst seed
    assert rows["modularity"][4] == "+1.00" and rows["modularity"][6] == "0.9000"
    assert rows["conductance"][4] == "+1.00" and rows["silhouette"][4] == "–"


def test_study_tables_tell_the_folders_of_one_method_apart():
    labels = {m: make_tables.short_label(m) for m in ("scgc_star", "selected", "selected_best", "selected_modularity_best",
                                                       "selected_modularity_gain_best", "selected_modularity",
                                                       "scgc_star_restarts5")}
    assert len(set(labels.values())) == len(labels)  # one label per folder, none shared
    assert labels["scgc_star"] == "SCGC*"
    assert labels["selected"] == "SCGC*, selected (consensus of the grid)"
    assert labels["selected_best"] == f"SCGC*, selected (chosen by {make_tables.DEFAULT_CRITERION.replace('_', ' ')})"
    assert labels["selected_modularity_best"] == "SCGC*, selected (chosen by modularity)"
    assert labels["selected_modularity_gain_best"] == "SCGC*, selected (chosen by modularity gain)"
    assert labels["selected_modularity"] == "SCGC*, selected (consensus of the grid, modularity's temperatures)"
    assert make_tables.method_label("selected_restarts3") == f"{make_tables.METHOD_LABEL['selected']}, the grid fitted from 3 seeds"
    assert labels["scgc_star_restarts5"] == "SCGC*, best of 5 restarts by modularity"
    runs = [{"seed": s, "final_loss": 1.0 - s / 10, "acc": 0.5 + s / 10, "nmi": 0.5} for s in range(3)]
    lines = make_tables.restart_tables({("scgc_star", "cora"): {"runs": runs}, ("selected_modularity_best", "cora"): {"runs": runs}})
    assert {line.split(" | ")[0] for line in lines if "| cora |" in line} == {"| SCGC*", "| SCGC*, selected (chosen by modularity)"}


def test_homogeneous_set_writes_an_ablation_and_the_seed_spread_table(tmp_path):
    cfg = _small_config(tmp_path, "scgc.yaml")
    results = tmp_path / "results"
    for a in (3, 4):
        out = results / "ablations" / f"scgc_star_cora_pretrain_random_state-{a}.json"
        _run_script("scgc.py", tmp_path, "--method", "scgc_star", "--dataset", "cora", "--seeds", "0", "1",
                    "--epochs", "2", "--config", cfg, "--set", f"pretrain_random_state={a}", "--out", out)
        res = json.loads(out.read_text())
        assert res["overrides"] == {"pretrain_random_state": a} and res["config"]["pretrain_random_state"] == a
        assert all(f"--set pretrain_random_state={a}" in r["command"] for r in res["runs"])
    text = make_tables.make_tables(make_tables.load_results(results), {})
    assert "## Where the seed spread comes from" in text and "## cora" not in text  # an ablation is no row of its own
    assert re.search(r"\| SCGC\*†? \| cora \| pretraining seed 3 \| 0–1 \|", text)
    assert "within a pretraining (k-means start, training)" in text
    # an unknown key, or --set on a baseline, fails before any training
    for args, message in ((["--method", "scgc_star", "--set", "pretrain_seed=1"], "not a key of this config block"),
                          (["--method", "kmeans", "--set", "n_init=3"], "is a baseline")):
        proc = subprocess.run([sys.executable, str(ROOT / "experiments" / "scgc.py"), *args, "--dataset", "cora",
                               "--seeds", "0", "--out", str(tmp_path / "x.json")],
                              capture_output=True, text=True, timeout=TIMEOUT, env=ENV)
        assert proc.returncode == 1 and message in proc.stderr and "Traceback" not in proc.stderr


def test_selection_replay_rescores_recorded_grids_by_the_gain(tmp_path):
    import selection_replay

    from graphcl.data import load_dataset
    from graphcl.ops import smooth_features
    from graphcl.selection import _kmeans_modularity, graph_inputs

    x, ei, ew = graph_inputs(load_dataset("cora"), None)
    m0 = _kmeans_modularity(x, ei, ew, 7, 3, 1)
    m2 = _kmeans_modularity(smooth_features(x, ei, ew, hops=2), ei, ew, 7, 3, 1)
    assert m2 > m0 + 0.2  # propagation raises k-means' modularity: what the gain corrects for

    def point(h, modularity, acc):
        return {"input_hops": h, "order": 1, "temperature": 4.0, "modularity": modularity, "silhouette": 0.5,
                "evaluation": {"acc": acc, "nmi": acc / 2}}

    # raw X: lower modularity, larger gain (it adds more to its input); A^2 X: the reverse
    grid = [point(0, m0 + 0.30, 0.70), point(2, m2 + 0.05, 0.60)]
    grid[0]["input_modularity"] = m0  # recorded: the replay checks it
    folder = tmp_path / "selected_test"
    folder.mkdir()
    (folder / "cora.json").write_text(json.dumps({"dataset": "cora", "config": {"kmeans_n_init": 1, "criterion": "modularity"},
                                                  "runs": [{"seed": 3, "selection": {"grid": grid}}]}))
    out = tmp_path / "replay.json"
    assert selection_replay.main(["--results-dir", str(tmp_path), "--out", str(out), "--threads", "1"]) == 0
    row = json.loads(out.read_text())["rows"][0]
    assert row["picks"]["modularity"]["acc"] == 0.60 and row["picks"]["modularity_gain"]["acc"] == 0.70
    assert row["max_input_modularity_mismatch"] == 0.0
    assert row["best_grid_point"]["acc"] == 0.70 and row["first_grid_point"]["acc"] == 0.70


def test_selection_replay_scores_the_kept_partitions_in_a_space_the_grid_shares(tmp_path):
    import numpy as np
    import selection_replay
    from sklearn.metrics import silhouette_score

    from graphcl.experiment import pack_labels

    rng = np.random.RandomState(0)
    y = np.repeat([0, 1, 2], 20)
    x = rng.normal(size=(60, 5)) + 4 * np.eye(5)[y]  # three clear groups in the raw features
    good, shuffled = y.copy(), rng.permutation(y)
    near = good.copy()
    near[:3] = 1  # three nodes moved: close to the good partition
    grid = [{"labels": pack_labels(p)} for p in (shuffled, good, near)]
    assert selection_replay.partition_scores(grid, x, seed=1)
    assert max(grid, key=lambda g: g["input_silhouette"]) is grid[1]  # the partition the features support
    assert max(grid, key=lambda g: g["agreement"]) in (grid[1], grid[2]) and grid[0]["agreement"] < 0.1
    assert grid[1]["input_silhouette"] == pytest.approx(silhouette_score(x, good, metric="cosine"))  # sample = all 60
    assert not selection_replay.partition_scores([{"labels": pack_labels(good)}, {}], x, seed=1)  # a point without them
    # end to end: a grid that keeps its partitions gets both criteria studied; one that does not is left out
    data_x = load_dataset("cora").x.numpy()
    labs = [np.arange(data_x.shape[0]) % 7, np.arange(data_x.shape[0]) % 3]
    points = [{"input_hops": 0, "order": 1, "temperature": t, "modularity": 0.5, "silhouette": 0.5,
               "labels": pack_labels(lab), "evaluation": {"acc": a, "nmi": a}} for t, lab, a in ((4.0, labs[0], 0.6),
                                                                                                   (8.0, labs[1], 0.5))]
    folder = tmp_path / "selected_test"
    folder.mkdir()
    runs = [{"seed": 0, "selection": {"grid": points}},
            {"seed": 1, "selection": {"grid": [{k: v for k, v in g.items() if k != "labels"} for g in points]}}]
    (folder / "cora.json").write_text(json.dumps({"dataset": "cora", "config": {"kmeans_n_init": 1}, "runs": runs}))
    out = tmp_path / "replay.json"
    assert selection_replay.main(["--results-dir", str(tmp_path), "--out", str(out), "--threads", "1"]) == 0
    picks = json.loads(out.read_text())["rows"][0]["picks"]
    assert picks["agreement"]["seeds"] == 1 and picks["input_silhouette"]["seeds"] == 1 and picks["silhouette"]["seeds"] == 2
    assert picks["agreement"]["first_grid_point_acc"] == 0.6  # the first point of the grids that score it


def test_selection_replay_scores_the_consensus_of_each_kept_grid():
    import numpy as np
    import selection_replay

    from graphcl.cluster import consensus_clustering
    from graphcl.experiment import pack_labels

    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), 40)
    members = []
    for _ in range(5):  # noisy copies of y: their consensus recovers it
        p = y.copy()
        moved = rng.random(120) < 0.3
        p[moved] = rng.integers(0, 3, moved.sum())
        members.append(p)
    grid = [{"labels": pack_labels(p)} for p in members]
    out = selection_replay.consensus_replay([grid, [{}]], [{"acc": 0.7, "nmi": 0.4}, {"acc": 0.1, "nmi": 0.1}], y, 3,
                                            [4, 5], n_init=5)
    assert out["seeds"] == 1 and out["per_seed"][0]["seed"] == 4  # the grid without partitions is left out
    assert out["chosen_acc"] == 0.7 and out["acc"] == evaluate_clustering(y, consensus_clustering(members, 3, 4, 5))["acc"]
    assert all(evaluate_clustering(y, p)["acc"] < 0.9 for p in members) and out["acc"] > 0.95  # better than every member
    assert selection_replay.consensus_replay([[{}]], [{"acc": 0.5, "nmi": 0.5}], y, 3, [0], 5) == {"seeds": 0}
    # R seeds' grids pooled: every R-subset of the kept grids, as select(restarts=R) combines them
    grids = [[{"labels": pack_labels(p)} for p in members[:2]], [{"labels": pack_labels(p)} for p in members[2:4]],
             [{"labels": pack_labels(members[4])}], [{}]]
    pooled = selection_replay.pooled_consensus_replay(grids, y, 3, [7, 8, 9, 10], n_init=5)
    assert pooled["2"]["subsets"] == 3 and pooled["3"]["subsets"] == 1  # seed 10 kept no partitions
    assert pooled["3"]["acc"] == evaluate_clustering(y, consensus_clustering(members, 3, 7, 5))["acc"]


def test_pooled_selection_counts_a_grid_recorded_in_two_files_once():
    def point(t, sil, mod, acc):
        return {"input_hops": 0, "order": 1, "temperature": t, "silhouette": sil, "modularity": mod, "conductance": 0.5,
                "evaluation": {"acc": acc, "nmi": acc}}

    a = [point(4.0, 0.8, 0.3, 0.6), point(8.0, 0.9, 0.2, 0.7)]
    b = [point(4.0, 0.7, 0.3, 0.5), point(8.0, 0.6, 0.4, 0.4)]
    grids, repeats = make_tables.distinct_grids([("cora", a), ("cora", [dict(p) for p in a]), ("acm", a), ("cora", b)])
    assert repeats == 1 and len(grids) == 3  # the same fits on the same dataset once; another dataset's grid is its own
    lines = make_tables.selection_tables({("selected", "cora"): {"runs": [{"selection": {"grid": a}}, {"selection": {"grid": b}}]},
                                          ("selected_modularity", "cora"): {"runs": [{"selection": {"grid": a}}]}})
    assert "| silhouette | 2 | +1.00 | +0.0500 | 1/2 |" in lines  # a and b, not a twice
    assert any("1 such repeats" in line for line in lines)
    # a consensus file's seed that its `_best` twin also holds is the same fits: read there only
    lines = make_tables.selection_tables({
        ("selected", "cora"): {"runs": [{"seed": 0, "selection": {"grid": a}}, {"seed": 1, "selection": {"grid": b}}]},
        ("selected_best", "cora"): {"runs": [{"seed": 0, "selection": {"grid": a}}]}})
    assert "| silhouette | 2 | +1.00 | +0.0500 | 1/2 |" in lines and not any("1 such repeats" in line for line in lines)
    assert sum(line.startswith("| SCGC*, selected (consensus of the grid) | cora | 1 |") for line in lines) > 0


def test_pathsim_ties_study_scores_each_tie_order_and_maps_shuffled_ids_back(tmp_path):
    import json

    import pathsim_ties_study

    from graphcl.data import planted_hetero_graph

    data = planted_hetero_graph(120, 3, 8, 1.0, seed=0)
    names = list(data.metapaths)
    small = pathsim_ties_study.same_class_rates(data, [3] * len(names), seed=0, shuffle_seed=1)
    whole = pathsim_ties_study.same_class_rates(data, [10_000] * len(names), seed=0, shuffle_seed=1)
    for name in names:
        r, w = small[name], whole[name]
        assert set(r) == {"k", "pairs", "all_pairs", "seeded", "numpy", "numpy_shuffled_ids", "tied_rows"}
        assert all(0.0 <= r[key] <= 1.0 for key in ("all_pairs", "seeded", "numpy", "numpy_shuffled_ids", "tied_rows"))
        # no cut: every order keeps every pair, so all four rates agree (the shuffled ids are mapped back right)
        assert w["seeded"] == w["numpy"] == w["numpy_shuffled_ids"] == pytest.approx(w["all_pairs"]) and w["tied_rows"] == 0.0
    # papers of one venue all have PathSim 1 through it: every row cut at 3 ties at the cut
    venue = [name for name in names if "venue" in str(data.metapaths[name])]
    assert venue and small[venue[0]]["tied_rows"] == 1.0
    out = tmp_path / "ties.json"
    assert pathsim_ties_study.main(["--datasets", "acm", "--out", str(out), "--allow-dirty", "--threads", "1"]) == 0
    rows = {r["metapath"]: r for r in json.loads(out.read_text())["rows"]}
    assert rows["PSP"]["k"] == 700 and rows["PSP"]["class_changes_along_ids"] == 35


def test_meow_script_resumes_a_killed_seed_exactly(tmp_path):
    """A seed killed after a checkpoint and run again with the same command ends with the record
    of an uninterrupted run: same epochs, loss, labels and metrics; its first start and the
    resume are recorded, and a resume from another commit is refused."""
    wrapper = Path(__file__).resolve().parent / "meow_script_wrapper.py"
    fake = "0123456789abcdef0123456789abcdef01234567"  # the wrapper's FAKE_COMMIT
    cfg = tmp_path / "meow.yaml"
    cfg.write_text((ROOT / "experiments" / "configs" / "meow.yaml").read_text())
    common = ["--method", "adameow", "--dataset", "freebase", "--epochs", "5", "--config", str(cfg), "--checkpoint-every", "2"]

    def script(*args, kill=None):
        pre = ["--kill-after-checkpoint", str(kill)] if kill is not None else []
        return subprocess.run([sys.executable, str(wrapper), *pre, *common, *args], capture_output=True, text=True,
                              timeout=TIMEOUT, env=ENV)

    straight, resumed = tmp_path / "straight.json", tmp_path / "resumed.json"
    proc = script("--seeds", "0", "--checkpoint-dir", str(tmp_path / "a"), "--out", str(straight))
    assert proc.returncode == 0, proc.stderr
    # the first sitting: the worker alone (as the script runs it), killed after epoch 1's checkpoint
    worker = ["--seed", "0", "--checkpoint-dir", str(tmp_path / "b"), "--run-commit", fake]
    proc = script(*worker, kill=1)
    assert proc.returncode == -9, proc.stderr
    meta = json.loads((tmp_path / "b" / "adameow_freebase_seed0.json").read_text())
    assert meta["resumed"] == [] and len((tmp_path / "b" / "adameow_freebase_seed0.epochs.jsonl").read_text().splitlines()) == 2
    proc = script("--seeds", "0", "--checkpoint-dir", str(tmp_path / "b"), "--out", str(resumed))
    assert proc.returncode == 0, proc.stderr
    a, b = (json.loads(p.read_text())["runs"][0] for p in (straight, resumed))
    assert b["resumed"][0]["from_epoch"] == 2 and b["started_at"] == meta["started_at"] and a["resumed"] == []
    assert a["epochs"] == b["epochs"] == 5 and a["final_loss"] == b["final_loss"]
    for key in ("acc", "nmi", "ari", "kmeans10_nmi", "classification"):
        assert a[key] == b[key], key
    assert b["git_commit"] == fake and "--checkpoint-dir" in b["command"]
    assert not set(b["estimator_params"]) & {"checkpoint", "checkpoint_every", "epoch_log"}
    assert b["train_seconds"] == pytest.approx(sum(
        json.loads(line)["seconds"] for line in (tmp_path / "b" / "adameow_freebase_seed0.epochs.jsonl").read_text().splitlines()))
    # the same record continued from another commit is refused, naming the commit it needs
    proc = script("--seed", "0", "--checkpoint-dir", str(tmp_path / "b"), "--run-commit", "f" * 40)
    assert proc.returncode == 1 and f"was written at commit {fake}" in proc.stderr and "Traceback" not in proc.stderr


def test_seed_checkpoint_refuses_a_dirty_tree_and_another_config(tmp_path):
    from graphcl.experiment import SeedCheckpoint

    with pytest.raises(GraphclInputError, match="clean, committed tree"):
        SeedCheckpoint(tmp_path, "meow_acm", 0, "abc-dirty", {})
    ck = SeedCheckpoint(tmp_path, "meow_acm", 0, "abc", {"lr": 1e-3})
    assert ck.begin() is None and json.loads(ck.meta_path.read_text())["git_commit"] == "abc"
    ck.model_path.write_bytes(b"")  # a checkpoint is there: a resume compares the config first
    with pytest.raises(GraphclInputError, match="another config"):
        SeedCheckpoint(tmp_path, "meow_acm", 0, "abc", {"lr": 1e-2}).begin()
    with pytest.raises(GraphclInputError, match="positive integer"):
        SeedCheckpoint(tmp_path, "meow_acm", 0, "abc", {}, every=0)


@pytest.mark.parametrize("extra,message", [(["--method", "kmeans_smoothed"], "does not train"),
                                           (["--method", "meow", "--checkpoint-every", "0"], "at least 1")])
def test_meow_script_rejects_bad_checkpoint_options(tmp_path, extra, message):
    proc = subprocess.run(
        [sys.executable, str(ROOT / "experiments" / "meow.py"), *extra, "--dataset", "acm", "--seeds", "0",
         "--checkpoint-dir", str(tmp_path / "ck"), "--out", str(tmp_path / "out.json")],
        capture_output=True, text=True, timeout=TIMEOUT, env=ENV,
    )
    assert proc.returncode == 1 and message in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "ck").exists() and not (tmp_path / "out.json").exists()
