#!/usr/bin/env python
"""GPU check: CPU and CUDA losses agree, and PamC epoch times at 10⁶ and 2.45 × 10⁶ nodes.

Runs from a plain checkout without installing graphcl (torch and torch_geometric are enough;
torch-scatter and ogb are not needed)::

    PYTHONPATH=. python experiments/gpu_check.py                   # on a CUDA machine, < 5 min
    PYTHONPATH=. python experiments/gpu_check.py --device cpu --sizes 20000   # dry run on a CPU

1. **Agreement**: NeighborContrastLoss and PamCLoss (hard and soft meta-nodes) on a small
   planted-partition graph, values and gradients, CPU float64 against the device in float32
   (tolerance 1e-4 relative).
2. **Epoch times**: full-batch PamC (the scaling bench's model: 128→256→256→16, W = Â) and
   mini-batch PamC (batch 65 536) on planted-partition graphs of each size (average degree 10,
   the second size is ogbn-products' 2 449 029 nodes): seconds per epoch (after one warm-up
   epoch) and peak device memory (``torch.cuda.max_memory_allocated``).

Prints one JSON object (also written to ``--out`` when given).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def sync(device):
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


def agreement(device) -> dict:
    import torch

    from graphcl.data import planted_partition_graph
    from graphcl.losses import NeighborContrastLoss, PamCLoss
    from graphcl.ops import influence_matrix

    data = planted_partition_graph(3000, 10, 8, 0.8, 16, 1.0, seed=0)
    ei, w = influence_matrix(data.edge_index, None, data.num_nodes, 2)
    g = torch.Generator().manual_seed(0)
    z = torch.randn(data.num_nodes, 16, generator=g, dtype=torch.float64)
    q = torch.softmax(torch.randn(data.num_nodes, 10, generator=g, dtype=torch.float64), 1)
    out = {}
    losses = {"neighbor_contrast": (NeighborContrastLoss(0.5), False), "pamc_hard": (PamCLoss(0.5, "hard"), True),
              "pamc_soft": (PamCLoss(0.5, "soft"), True)}
    for name, (loss, takes_q) in losses.items():
        vals, grads = [], []
        for dev, dtype in ((torch.device("cpu"), torch.float64), (device, torch.float32)):
            zz = z.to(dev, dtype).detach().clone().requires_grad_()
            qq = q.to(dev, dtype).detach().clone().requires_grad_()
            args = (zz, ei.to(dev), w.to(dev, dtype)) + ((qq,) if takes_q else ())
            v = loss(*args)
            v.backward()
            vals.append(float(v.detach()))
            grads.append(zz.grad.double().cpu())
        rel_v = abs(vals[0] - vals[1]) / max(abs(vals[0]), 1e-12)
        rel_g = float((grads[0] - grads[1]).norm() / grads[0].norm().clamp_min(1e-12))
        out[name] = {"cpu_float64": vals[0], "device_float32": vals[1], "value_rel_err": rel_v, "grad_rel_err": rel_g,
                     "ok": rel_v < 1e-4 and rel_g < 1e-4}
    return out


def epoch_times(device, n: int, epochs: int, batch_size: int) -> dict:
    import torch

    from graphcl.data import planted_partition_graph
    from graphcl.models import PamC

    t0 = time.perf_counter()
    data = planted_partition_graph(n, 10, 10.0, 0.8, 128, 10.0, seed=0)  # bench_scaling.py graph
    res = {"num_nodes": n, "num_edges": int(data.edge_index.size(1)), "generate_seconds": time.perf_counter() - t0}
    common = dict(hidden_channels=(256, 256), embedding_dim=16, pretrain_epochs=0, cache=False, epochs=epochs,
                  order=1, alpha=2.0, beta=2.0, temperature=2.0, lr=1e-3, device=device, kmeans_n_init=1)
    for label, extra in (("full_batch", {}), (f"minibatch_{batch_size}", {"batch_size": batch_size})):
        if device.type == "cuda":
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats(device)
        model = PamC(10, **common, **extra)
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            model.fit(data.x, data.edge_index)
        eps = model.timings_["epoch_seconds"]
        res[label] = {"epoch_seconds": eps[1:] if len(eps) > 1 else eps, "prepare_seconds": model.timings_["prepare_seconds"],
                      "train_seconds": model.timings_["train_seconds"],
                      "peak_device_mb": torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else None}
        res[label]["epoch_seconds_mean"] = sum(res[label]["epoch_seconds"]) / len(res[label]["epoch_seconds"])
    return res


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cuda")
    p.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 2_449_029])
    p.add_argument("--epochs", type=int, default=3, help="epochs per timing run (the first is a warm-up)")
    p.add_argument("--batch-size", type=int, default=65_536)
    p.add_argument("--out", default=None)
    args = p.parse_args(argv)
    import torch

    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print("error: --device cuda but CUDA is not available (use --device cpu for a dry run)", file=sys.stderr)
        return 2
    import torch_geometric

    from graphcl.experiment import gpu_name
    from graphcl.ops.scatter import get_scatter_backend

    report = {"torch": torch.__version__, "torch_geometric": torch_geometric.__version__,
              "scatter_backend": get_scatter_backend(), "device": str(device),
              "device_name": gpu_name(str(device)) or "cpu"}
    t0 = time.perf_counter()
    report["agreement"] = agreement(device)
    print(json.dumps({"agreement": report["agreement"]}), flush=True)
    report["timings"] = []
    for n in args.sizes:
        report["timings"].append(epoch_times(device, n, args.epochs, args.batch_size))
        print(json.dumps(report["timings"][-1]), flush=True)
    report["wall_seconds"] = time.perf_counter() - t0
    report["all_agree"] = all(v["ok"] for v in report["agreement"].values())
    text = json.dumps(report, indent=1)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    return 0 if report["all_agree"] else 1


if __name__ == "__main__":
    sys.exit(main())
