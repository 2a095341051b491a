"""Result provenance (DESIGN §5, issue 13): per-seed command/commit/start, the dirty-tree
refusal, legacy marks and the generated sentences of the results page; the scripts' method
lists from the registry; YAML-1.1 numeric strings in configs."""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import graphcl.experiment as experiment
from graphcl import GraphclInputError
from graphcl.experiment import (
    RUN_PROVENANCE_KEYS,
    check_clean_tree,
    has_clean_provenance,
    load_config,
    pack_labels,
    parse_overrides,
    seed_command,
    unpack_labels,
    write_result,
    yaml_number,
)

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "experiments" / "results"
SHA = "0123456789abcdef0123456789abcdef01234567"


def script(name: str):
    """An experiments/ script imported as a module under a private name."""
    sys.path.insert(0, str(ROOT / "experiments"))
    spec = importlib.util.spec_from_file_location(f"_exp_{name}", ROOT / "experiments" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_tables = script("make_tables")


def run(seed, acc, nmi=None, **extra):
    return {"seed": seed, "acc": acc, "nmi": acc if nmi is None else nmi, "ari": acc, "f1": acc,
            "train_seconds": 1.0, **extra}


def clean(seed, acc, nmi=None, commit=SHA):
    return run(seed, acc, nmi, command=f"python experiments/scgc.py --seeds {seed}", git_commit=commit,
               started_at=f"2026-01-0{seed + 1}T00:00:00+00:00")


# ------------------------------------------------------------------ the committed result files


def _git(*args):
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)


def _result_files():
    return sorted(p for p in RESULTS.glob("**/*.json") if "bench" not in p.relative_to(RESULTS).parts)


def test_every_committed_result_has_per_seed_provenance_or_is_flagged_legacy():
    files = _result_files()
    assert len(files) > 10
    shallow = _git("rev-parse", "--is-shallow-repository").stdout.strip() == "true"
    missing_commits, bad = [], []
    for path in files:
        text = path.read_text()
        res = json.loads(text)
        assert text == json.dumps(res, indent=1) + "\n", f"{path} is not formatted as write_result writes it"
        if res.get("legacy_provenance") is True:
            assert list(res)[0] == "legacy_provenance", path
            continue
        # a study (results/studies/) is one run over committed files: its provenance is the file's own
        entries = [dict(res, seed="(study)")] if "studies" in path.relative_to(RESULTS).parts else res["runs"]
        for r in entries:
            if not all(r.get(k) for k in RUN_PROVENANCE_KEYS) or str(r["git_commit"]).endswith("-dirty") \
                    or r.get("allow_dirty"):
                bad.append(f"{path.relative_to(ROOT)} seed {r['seed']}")
            elif _git("cat-file", "-e", f"{r['git_commit']}^{{commit}}").returncode != 0:
                missing_commits.append(f"{path.relative_to(ROOT)} seed {r['seed']}: {r['git_commit']}")
    assert not bad, f"runs without clean per-seed provenance in files not flagged legacy_provenance: {bad}"
    if missing_commits and shallow:
        pytest.skip(f"shallow clone: cannot check that these commits exist: {missing_commits[:3]}")
    assert not missing_commits, f"commits missing from the history: {missing_commits}"


def test_results_md_is_generated_from_the_committed_json_with_legacy_marks():
    import yaml

    text = (ROOT / "docs" / "results.md").read_text()
    refs = yaml.safe_load((ROOT / "experiments" / "reference_numbers.yaml").read_text()) or {}
    assert text == make_tables.make_tables(make_tables.load_results(RESULTS), refs), \
        "docs/results.md is stale: run python experiments/make_tables.py"
    if any(json.loads(p.read_text()).get("legacy_provenance") for p in _result_files()):
        assert make_tables.LEGACY_MARK in text and make_tables.LEGACY_NOTE in text


# ------------------------------------------------------------------ write_result


def test_write_result_records_provenance_per_seed_and_never_overwrites_an_older_runs(tmp_path, monkeypatch):
    out = tmp_path / "r.json"
    monkeypatch.setattr(sys, "argv", ["experiments/scgc.py", "--method", "scgc_star", "--dataset", "usps",
                                      "--seeds", "0", "1"])
    write_result(out, method="m", dataset="d", config={"a": 1}, runs=[run(0, 0.5), run(1, 0.7)],
                 started_at="2026-01-01T00:00:00+00:00", commit=SHA)
    res = json.loads(out.read_text())
    assert [r["command"] for r in res["runs"]] == [
        "python experiments/scgc.py --method scgc_star --dataset usps --seeds 0",
        "python experiments/scgc.py --method scgc_star --dataset usps --seeds 1"]
    assert all(r["git_commit"] == SHA and r["started_at"] == "2026-01-01T00:00:00+00:00" for r in res["runs"])
    assert "legacy_provenance" not in res
    # a later invocation of another commit adds seed 2: seeds 0 and 1 keep their own provenance
    later = "f" * 40
    monkeypatch.setattr(sys, "argv", ["experiments/scgc.py", "--seeds", "2"])
    write_result(out, method="m", dataset="d", config={"a": 1}, runs=[run(2, 0.9)], started_at="2026-02-01T00:00:00+00:00",
                 commit=later)
    res = json.loads(out.read_text())
    assert [(r["seed"], r["git_commit"], r["started_at"][:7]) for r in res["runs"]] == [
        (0, SHA, "2026-01"), (1, SHA, "2026-01"), (2, later, "2026-02")]
    assert res["git_commit"] == later and res["started_at"].startswith("2026-02")  # top level: the latest invocation
    # a run that brings its own provenance keeps it
    write_result(out, method="m", dataset="d", config={"a": 1}, runs=[clean(3, 0.1, commit=SHA)], started_at="t",
                 commit=later)
    assert json.loads(out.read_text())["runs"][3]["git_commit"] == SHA
    # a changed config starts over (merging only within one config)
    write_result(out, method="m", dataset="d", config={"a": 2}, runs=[run(5, 0.1)], started_at="t", commit=SHA)
    assert [r["seed"] for r in json.loads(out.read_text())["runs"]] == [5]


def test_legacy_flag_stays_until_every_run_has_clean_provenance(tmp_path):
    out = tmp_path / "legacy.json"
    legacy = {"legacy_provenance": True, "method": "m", "dataset": "d", "config": {"a": 1}, "command": "old",
              "git_commit": SHA + "-dirty", "started_at": "t", "runs": [run(0, 0.5), run(1, 0.6)]}
    out.write_text(json.dumps(legacy, indent=1) + "\n")
    res = write_result(out, method="m", dataset="d", config={"a": 1}, runs=[clean(0, 0.7)], started_at="t", commit=SHA)
    assert res["legacy_provenance"] is True and list(res)[0] == "legacy_provenance"
    assert json.loads(out.read_text())["runs"][1] == run(1, 0.6)  # the old run untouched
    res = write_result(out, method="m", dataset="d", config={"a": 1}, runs=[clean(0, 0.7), clean(1, 0.8)],
                       started_at="t", commit=SHA)
    assert "legacy_provenance" not in res and "legacy_provenance" not in json.loads(out.read_text())
    # a dirty run (even under --allow-dirty) brings the flag back
    res = write_result(out, method="m", dataset="d", config={"a": 1},
                       runs=[{**clean(2, 0.5), "git_commit": SHA + "-dirty", "allow_dirty": True}], started_at="t",
                       commit=SHA)
    assert res["legacy_provenance"] is True


@pytest.mark.parametrize("run_, ok", [
    (clean(0, 0.5), True),
    (run(0, 0.5), False),
    ({**clean(0, 0.5), "git_commit": SHA + "-dirty"}, False),
    ({**clean(0, 0.5), "allow_dirty": True}, False),
    ({**clean(0, 0.5), "git_commit": "unknown"}, False),
    ({k: v for k, v in clean(0, 0.5).items() if k != "started_at"}, False),
])
def test_has_clean_provenance(run_, ok):
    assert has_clean_provenance(run_) is ok


@pytest.mark.parametrize("argv, seed, expected", [
    (["experiments/scgc.py", "--method", "scgc_star", "--dataset", "usps", "--seeds", "0", "1", "2"], 1,
     "python experiments/scgc.py --method scgc_star --dataset usps --seeds 1"),
    (["experiments/meow.py", "--seeds", "3", "4", "--set", "top_k=[70, 70]"], 4,
     "python experiments/meow.py --seeds 4 --set 'top_k=[70, 70]'"),
    (["experiments/pamc.py", "--seeds=7", "--dataset", "acm"], 7, "python experiments/pamc.py --seeds=7 --dataset acm"),
    (["experiments/pamc.py", "--dataset", "acm"], 0, "python experiments/pamc.py --dataset acm --seeds 0"),
])
def test_seed_command_narrows_seeds_to_one(argv, seed, expected):
    assert seed_command(argv, seed) == expected


def test_seed_command_names_the_script_relative_to_the_checkout():
    assert seed_command([str(ROOT / "experiments" / "scgc.py"), "--seeds", "1", "2"], 2) == \
        "python experiments/scgc.py --seeds 2"


# ------------------------------------------------------------------ dirty trees


@pytest.fixture
def fake_repo(tmp_path, monkeypatch):
    """A git checkout with graphcl/, experiments/configs/ and experiments/results/, standing in
    for the repository (REPO_ROOT and RESULTS_DIR point into it)."""
    repo = tmp_path / "repo"
    for folder in ("graphcl", "experiments/configs", "experiments/results/m"):
        (repo / folder).mkdir(parents=True)
    (repo / "graphcl" / "a.py").write_text("x = 1\n")
    (repo / "experiments" / "configs" / "c.yaml").write_text("m: {default: {}}\n")
    (repo / "experiments" / "results" / "m" / "old.json").write_text("{}\n")
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}
    for cmd in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "init"]):
        subprocess.run(["git", *cmd], cwd=repo, check=True, env=env, capture_output=True)
    monkeypatch.setattr(experiment, "REPO_ROOT", repo)
    monkeypatch.setattr(experiment, "RESULTS_DIR", repo / "experiments" / "results")
    return repo


def test_dirty_tree_is_refused_only_for_writes_into_results(fake_repo, tmp_path):
    out = fake_repo / "experiments" / "results" / "m" / "d.json"
    cfg = fake_repo / "experiments" / "configs" / "c.yaml"
    assert check_clean_tree(out, config_files=[cfg]) is False  # clean
    (fake_repo / "experiments" / "results" / "m" / "new.json").write_text("{}\n")  # a sweep's own output
    assert check_clean_tree(out) is False and experiment.git_commit().endswith("-dirty") is False
    for change in ("untracked", "modified", "staged"):
        path = fake_repo / ("graphcl/new.py" if change == "untracked" else "graphcl/a.py")
        path.write_text(f"y = '{change}'\n")
        if change == "staged":
            subprocess.run(["git", "add", "graphcl/a.py"], cwd=fake_repo, check=True)
        with pytest.raises(GraphclInputError, match=r"refusing to write .*dirty tree.*graphcl/.*--allow-dirty"):
            check_clean_tree(out)
        assert check_clean_tree(out, allow_dirty=True) is True
        assert check_clean_tree(tmp_path / "elsewhere.json") is False  # writing elsewhere is allowed
        assert experiment.git_commit().endswith("-dirty")
        subprocess.run(["git", "checkout", "-q", "--", "."], cwd=fake_repo, check=True)
        subprocess.run(["git", "reset", "-q", "--hard"], cwd=fake_repo, check=True)
        (fake_repo / "graphcl" / "new.py").unlink(missing_ok=True)
    (fake_repo / "experiments" / "configs" / "c.yaml").write_text("m: {default: {lr: 1}}\n")
    with pytest.raises(GraphclInputError, match="experiments/configs/c.yaml"):
        check_clean_tree(out)


def test_config_file_outside_the_checkout_is_refused_for_results(fake_repo, tmp_path):
    outside = tmp_path / "mine.yaml"
    outside.write_text("m: {default: {}}\n")
    with pytest.raises(GraphclInputError, match="outside the checkout"):
        check_clean_tree(fake_repo / "experiments" / "results" / "m" / "d.json", config_files=[outside])
    assert check_clean_tree(tmp_path / "x.json", config_files=[outside]) is False


def test_script_refuses_a_dirty_tree_before_any_training(fake_repo, monkeypatch, capsys):
    scgc = script("scgc")
    monkeypatch.setattr(experiment, "dirty_paths", lambda: ["graphcl/models/base.py"])
    started = []
    monkeypatch.setattr(experiment, "run_seeds_in_subprocesses", lambda *a, **k: started.append(1) or [])
    out = fake_repo / "experiments" / "results" / "kmeans" / "cora.json"
    code = scgc.main(["--method", "kmeans", "--dataset", "cora", "--seeds", "0", "--out", str(out),
                      "--config", str(ROOT / "experiments" / "configs" / "scgc.yaml")])
    err = capsys.readouterr().err
    assert code == 1 and not started and not out.exists()
    assert err.count("error:") == 1 and err.startswith("error: refusing to write") and "graphcl/models/base.py" in err
    assert "Traceback" not in err


def test_allow_dirty_records_it_in_every_run(fake_repo, monkeypatch, tmp_path, capsys):
    scgc = script("scgc")
    monkeypatch.setattr(experiment, "dirty_paths", lambda: ["graphcl/models/base.py"])
    cfg = fake_repo / "experiments" / "configs" / "k.yaml"
    cfg.write_text("kmeans:\n  default: {n_init: 1, hops: 2}\n")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    out = fake_repo / "experiments" / "results" / "kmeans" / "cora.json"
    code = scgc.main(["--method", "kmeans", "--dataset", "cora", "--seeds", "0", "1", "--out", str(out),
                      "--config", str(cfg), "--allow-dirty", "--threads", "1"])
    assert code == 0, capsys.readouterr().err
    res = json.loads(out.read_text())
    assert res["legacy_provenance"] is True and res["git_commit"].endswith("-dirty")
    for r in res["runs"]:
        assert f"experiments/scgc.py --method kmeans --dataset cora --seeds {r['seed']} --out " in r["command"]
        assert r["command"].endswith("--allow-dirty --threads 1")
    assert "experiments/scgc.py --method kmeans --dataset cora --seeds 0 1 --out " in res["command"]
    for r in res["runs"]:
        assert r["allow_dirty"] is True and r["git_commit"].endswith("-dirty") and r["started_at"] >= res["started_at"]


# ------------------------------------------------------------------ method lists from the registry


def test_scripts_take_their_methods_from_the_registry():
    from graphcl.models import MEOW, PamC, register, unregister

    try:
        @register("throwaway_test", family="homogeneous", config=("pamc.yaml", "pamc"))
        class Throwaway(PamC):
            pass

        @register("throwaway_hetero_test", family="heterogeneous", config=("meow.yaml", "meow"))
        class ThrowawayHetero(MEOW):
            pass

        def choices(parser):
            return next(a.choices for a in parser._actions if a.dest == "method")

        pamc, scgc, meow, dist = script("pamc"), script("scgc"), script("meow"), script("train_distributed")
        assert "throwaway_test" in choices(pamc.build_parser())
        assert "throwaway_test" not in choices(scgc.build_parser())  # pamc.yaml methods run under pamc.py
        assert "throwaway_test" in choices(dist.build_parser())
        assert "throwaway_hetero_test" in choices(meow.build_parser())
        assert {"kmeans", "kmeans_smoothed"} <= set(choices(pamc.build_parser())) & set(choices(meow.build_parser()))
        runner = script("homogeneous_runner")
        assert runner.method_config("throwaway_test", pamc.CONFIG) == (ROOT / "experiments" / "configs" / "pamc.yaml", "pamc")
        assert isinstance(runner.make_estimator("throwaway_test", n_clusters=3), Throwaway)
        assert meow.method_config("throwaway_hetero_test")[1] == "meow"
    finally:
        unregister("throwaway_test")
        unregister("throwaway_hetero_test")
    assert "throwaway_test" not in next(a.choices for a in script("pamc").build_parser()._actions if a.dest == "method")


# ------------------------------------------------------------------ YAML numbers


def test_load_config_reads_yaml_11_numeric_strings_as_floats(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("m:\n  default: {lr: 1e-3, wd: 5E-4, big: 1e3, n: 7, mode: hard, tag: e5, steps: [1e-2, 2]}\n"
                   "  ds: {lr: 2.0e-4}\n")
    out = load_config(cfg, "m", "x")
    assert out == {"lr": 1e-3, "wd": 5e-4, "big": 1000.0, "n": 7, "mode": "hard", "tag": "e5", "steps": [0.01, 2]}
    assert isinstance(out["lr"], float) and isinstance(out["n"], int)
    assert load_config(cfg, "m", "ds")["lr"] == 2e-4
    assert parse_overrides(["lr=1e-3", "steps=[1e-1, 3]"], out) == {"lr": 0.001, "steps": [0.1, 3]}


@pytest.mark.parametrize("value, expected", [
    ("1e-3", 1e-3), ("-2E+2", -200.0), (".5e1", 5.0), ("3", "3"), ("inf", "inf"), ("nan", "nan"), ("1e", "1e"),
    ({"a": ["1e-1"]}, {"a": [0.1]}), (4, 4), (None, None),
])
def test_yaml_number(value, expected):
    assert yaml_number(value) == expected


def test_cli_and_scripts_read_a_config_written_with_yaml_11_numbers(tmp_path):
    cfg = tmp_path / "pamc.yaml"
    text = (ROOT / "experiments" / "configs" / "pamc.yaml").read_text()
    cfg.write_text(text.replace("lr: 1.0e-3", "lr: 1e-3"))
    assert "lr: 1e-3" in cfg.read_text()
    from graphcl.cli import hyperparameters

    params, source = hyperparameters("pamc", "usps", str(cfg))  # what `graphcl fit --config` reads
    assert params["lr"] == 1e-3 and isinstance(params["lr"], float) and source == str(cfg)
    runner = script("homogeneous_runner")
    cfg_file, section = runner.method_config("pamc", cfg)
    assert load_config(cfg, section, "usps")["lr"] == 1e-3  # what experiments/pamc.py --config reads


# ------------------------------------------------------------------ results page


def _write(folder, method, dataset, runs, legacy=False, **extra):
    path = folder / method / f"{dataset}.json"
    write_result(path, method=method, dataset=dataset, config={}, runs=runs, started_at="t", commit=SHA, extra=extra)
    if legacy:
        res = json.loads(path.read_text())
        path.write_text(json.dumps({"legacy_provenance": True, **res}, indent=1) + "\n")


def test_results_page_says_where_a_method_loses_to_a_baseline(tmp_path):
    folder = tmp_path / "results"
    _write(folder, "kmeans", "cora", [clean(0, 0.30, 0.20)])
    _write(folder, "kmeans_smoothed", "cora", [clean(0, 0.6965, 0.5457)])
    _write(folder, "scgc_star", "cora", [clean(0, 0.6431, 0.4847)], legacy=True)
    _write(folder, "pamc", "cora", [clean(0, 0.70, 0.50)])  # loses on NMI only
    _write(folder, "kmeans", "usps", [clean(0, 0.6, 0.6)])
    _write(folder, "scgc_star", "usps", [clean(0, 0.8, 0.8)])  # wins everywhere: no sentence
    text = make_tables.make_tables(make_tables.load_results(folder), {})
    cora = text.split("## cora")[1]
    assert "SCGC* loses to k-means (Â²X) on cora: ACC 0.6431 vs 0.6965, NMI 0.4847 vs 0.5457." in cora
    assert "PamC loses to k-means (Â²X) on cora: NMI 0.5000 vs 0.5457." in cora
    assert cora.index("| SCGC*† |") < cora.index("SCGC* loses") and make_tables.LEGACY_NOTE in cora
    assert "| PamC |" in cora  # a clean file carries no mark
    usps = text.split("## usps")[1].split("## cora")[0]
    assert "loses" not in usps and make_tables.LEGACY_MARK not in usps


def test_heterogeneous_tables_label_logistic_regression_and_say_where_meow_loses(tmp_path):
    folder = tmp_path / "results"

    def hrun(seed, nmi, maf1):
        cls = {r: {"macro_f1": maf1, "micro_f1": maf1, "auc": 0.9} for r in ("20", "40", "60")}
        return {**clean(seed, 0.7, nmi), "classification": cls}

    _write(folder, "kmeans_smoothed", "acm_hetero", [hrun(0, 0.6047, 0.8666)], family="heterogeneous")
    _write(folder, "meow", "acm", [hrun(0, 0.4211, 0.8776)], legacy=True, family="heterogeneous")
    # the baselines' JSON names the dataset "acm" (the file is acm_hetero.json)
    path = folder / "kmeans_smoothed" / "acm_hetero.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "dataset": "acm"}, indent=1) + "\n")
    text = make_tables.make_tables(make_tables.load_results(folder), {})
    classification, clustering = text.split("## acm (heterogeneous)")[1].split("Clustering (")
    assert "| logistic regression (meta-path-smoothed X) |" in classification
    assert "| k-means (meta-path-smoothed X) |" not in classification
    assert "loses" not in classification  # MEOW's Ma-F1@20 is above the baseline's
    assert "| k-means (meta-path-smoothed X) |" in clustering and "| MEOW† |" in clustering
    assert "MEOW loses to k-means (meta-path-smoothed X) on acm: clustering NMI 0.4211 vs 0.6047." in clustering
    assert make_tables.LEGACY_NOTE in classification and make_tables.LEGACY_NOTE in clustering


@pytest.mark.parametrize("labels", [np.array([0, 3, 3, 1, 0]), np.arange(300) % 257, np.array([70000, 0, 5]),
                                    np.array([], dtype=np.int64)])
def test_pack_labels_round_trips_in_the_smallest_width(labels):
    packed = pack_labels(labels)
    assert json.loads(json.dumps(packed)) == packed  # JSON-ready
    assert packed["n"] == labels.size
    assert packed["dtype"] == {0: "<u1", 4: "<u1", 3: "<u1", 256: "<u2", 70000: "<u4"}[int(labels.max()) if labels.size else 0]
    out = unpack_labels(packed)
    assert out.dtype == np.int64 and np.array_equal(out, labels)


def test_pack_labels_refuses_what_it_cannot_hold_and_unpack_refuses_a_broken_record():
    with pytest.raises(GraphclInputError, match="one-dimensional"):
        pack_labels(np.zeros((2, 2), dtype=int))
    with pytest.raises(GraphclInputError, match="non-negative"):
        pack_labels(np.array([0, -1]))
    packed = pack_labels(np.array([0, 1, 2]))
    with pytest.raises(GraphclInputError, match="record says 4"):
        unpack_labels({**packed, "n": 4})
    with pytest.raises(GraphclInputError, match="not a packed labelling"):
        unpack_labels({**packed, "zlib_base64": "not base64!"})
    with pytest.raises(GraphclInputError, match="not a packed labelling"):
        unpack_labels({"dtype": "<u1"})


def test_write_study_records_provenance_then_the_fields_in_order(tmp_path):
    from graphcl.experiment import write_study

    out = tmp_path / "deep" / "study.json"
    record = write_study(out, "my_study", "experiments/my_study.py", ["--threads", "1"], "2026-12-04T00:00:00+00:00",
                         dirty=True, rows=[{"a": 1}], seed=3)
    saved = json.loads(out.read_text())
    assert saved == record
    assert list(saved)[:7] == ["method", "command", "git_commit", "started_at", "written_at", "rows", "seed"]
    assert saved["command"] == "python experiments/my_study.py --threads 1"
    assert saved["allow_dirty"] is True and "environment" in saved and saved["started_at"].startswith("2026-12-04")
    clean = write_study(tmp_path / "clean.json", "my_study", "experiments/my_study.py", [], "t0", dirty=False)
    assert "allow_dirty" not in clean and clean["command"] == "python experiments/my_study.py"


def test_start_study_outside_the_results_folder_needs_no_clean_tree(tmp_path):
    import torch

    from graphcl.experiment import start_study

    before = torch.get_num_threads()
    try:
        dirty, started = start_study(tmp_path / "study.json", allow_dirty=False, threads=1)
        assert dirty is False and started[:4].isdigit() and started.endswith("+00:00") and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
