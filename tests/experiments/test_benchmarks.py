"""The benchmark scripts run end to end on tiny sizes and write their JSON and markdown."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(args, tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "GRAPHCL_CACHE": str(tmp_path / "cache")}
    proc = subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=1800, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def test_bench_scaling_small(tmp_path):
    out, md, png = tmp_path / "s.json", tmp_path / "s.md", tmp_path / "s.png"
    args = [str(ROOT / "experiments" / "bench_scaling.py"), "--sizes", "1500", "--runs", "kmeans", "pamc_full",
            "pamc_mb256", "pamc_reference_mb256_encode", "--epochs", "2", "--out", str(out), "--markdown", str(md), "--png", str(png)]
    run(args, tmp_path)
    res = json.loads(out.read_text())
    assert res["complete"] and {r["run"] for r in res["runs"]} == {"kmeans", "pamc_full", "pamc_mb256",
                                                                 "pamc_reference_mb256_encode"}
    assert all(r["git_commit"] and r["started_at"] and "bench_scaling.py" in r["command"] for r in res["runs"])
    assert all(0 <= r["acc"] <= 1 and r["peak_memory_mb"] > 0 for r in res["runs"])
    assert res["graphs"]["1500"]["generated"] and "pamc_mb256" in md.read_text()
    # a second invocation keeps the finished runs and reuses the saved graph
    proc = run(args, tmp_path)
    assert "N=1500" not in proc.stdout
    assert len(json.loads(out.read_text())["runs"]) == 4


def test_bench_scgc_small(tmp_path):
    out, md = tmp_path / "b.json", tmp_path / "b.md"
    run([str(ROOT / "experiments" / "bench_scgc.py"), "--sizes", "400", "--epochs", "2", "--memory-run-epochs", "1",
         "--out", str(out), "--markdown", str(md)], tmp_path)
    res = json.loads(out.read_text())
    assert res["complete"] and len(res["runs"]) == 4  # dense and ours, under both allocators
    assert set(res["comparisons"]) == {"400 (reuse)", "400 (default)"}
    assert res["calibration"]["gemm_gflops"] > 0 and "Calibration" in md.read_text()


def test_gpu_check_dry_run_on_cpu(tmp_path):
    # The script must work from a plain checkout (PYTHONPATH=.); on CPU it compares float64
    # with float32 on the same device and times tiny graphs.
    out = tmp_path / "gpu.json"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, str(ROOT / "experiments" / "gpu_check.py"), "--device", "cpu", "--sizes", "3000",
                           "--epochs", "2", "--batch-size", "512", "--out", str(out)],
                          capture_output=True, text=True, timeout=1800, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = json.loads(out.read_text())
    assert res["all_agree"] and set(res["agreement"]) == {"neighbor_contrast", "pamc_hard", "pamc_soft"}
    t = res["timings"][0]
    assert t["num_nodes"] == 3000 and t["full_batch"]["epoch_seconds_mean"] > 0 and t["minibatch_512"]["epoch_seconds_mean"] > 0


def test_bench_meow_small(tmp_path):
    out, md = tmp_path / "m.json", tmp_path / "m.md"
    run([str(ROOT / "experiments" / "bench_meow.py"), "--datasets", "freebase", "--methods", "meow", "--epochs", "2",
         "--out", str(out), "--markdown", str(md)], tmp_path)
    res = json.loads(out.read_text())
    (r,) = res["runs"]
    assert (r["method"], r["dataset"], r["epochs"], r["num_target_nodes"]) == ("meow", "freebase", 2, 3492)
    assert r["epoch_seconds_mean"] > 0 and r["peak_memory_mb"] > 0 and "| meow | freebase |" in md.read_text()


def test_bench_distributed_small(tmp_path):
    out, md = tmp_path / "d.json", tmp_path / "d.md"
    run([str(ROOT / "experiments" / "bench_distributed.py"), "--sizes", "2000", "--steps", "1", "--graph-dir",
         str(tmp_path / "graphs"), "--out", str(out), "--markdown", str(md)], tmp_path)
    res = json.loads(out.read_text())
    by_method = {r["method"]: r["steps"][-1]["bytes"] for r in res["runs"]}
    k, d = res["config"]["K"], res["config"]["embedding"]
    assert by_method["pamc"]["meta_nodes"] == by_method["pamc"]["meta_nodes.backward"] == 4 * k * (d + 1)
    assert by_method["pamc"]["ddp_gradients"] == by_method["scgc_star"]["ddp_gradients"] > 0
    assert by_method["scgc_star"]["embeddings.backward"] == 4 * d * 2000  # the [N, d] gradient all-reduce
    assert "| pamc | 2,000 |" in md.read_text()


def test_bench_hetero_scaling_small(tmp_path):
    out, md, png = tmp_path / "h.json", tmp_path / "h.md", tmp_path / "h.png"
    args = [str(ROOT / "experiments" / "bench_hetero_scaling.py"), "--sizes", "400", "--epochs", "2",
            "--out", str(out), "--markdown", str(md), "--png", str(png)]
    run(args, tmp_path)
    res = json.loads(out.read_text())
    rows = res["rows"]
    assert res["complete"] and [r["method"] for r in rows] == ["kmeans", "meow", "meow_meta", "meow_linear"]
    for r in rows:
        assert r["n_targets"] == 400 and 0 <= r["acc"] <= 1 and r["peak_memory_mb"] > 0
        assert r["git_commit"] and r["started_at"] and "bench_hetero_scaling.py" in r["command"]
        assert {"method", "n_targets", "epoch_seconds", "peak_memory_mb", "acc"} <= set(r)
        assert r["thp"] is True  # the workers' THP_MEM_ALLOC_ENABLE=1, recorded
    assert all(r["epochs"] == 2 and r["epoch_seconds"] > 0 for r in rows[1:])
    assert "| 400 | meow_linear | 2 |" in md.read_text()  # recompute="auto": off at 400 targets
    proc = run(args, tmp_path)  # finished runs are kept and skipped
    assert "N=400" not in proc.stdout and len(json.loads(out.read_text())["rows"]) == 4


def test_bench_hetero_scaling_markdown_reports_a_refusal():
    sys.path.insert(0, str(ROOT / "experiments"))
    import bench_hetero_scaling as bench

    res = json.loads(json.dumps({"command": "python bench_hetero_scaling.py", "git_commit": "abc123456789",
                                 "written_at": "now", "complete": True, "max_epoch_seconds": 600.0,
                                 "graph": dict(K=10, features=64, sigma=5.5, seed=0, **bench.GRAPH),
                                 "model": {"num_prototypes": [100, 300]}}))
    res["rows"] = [{"method": "meow", "n_targets": 10**6, "refused": "MEOW's all-target negatives ... negatives='meta'",
                    "estimated_epoch_seconds": 256137.3, "peak_memory_mb": 900.0, "load_average_at_end": [1.0]}]
    text = bench.to_markdown(res)
    assert "| 1,000,000 | meow | refused | ≈256,137 (estimate) |" in text and "negatives='meta'" in text
    assert "| 1.0 | – |" in text  # a row without the THP record
