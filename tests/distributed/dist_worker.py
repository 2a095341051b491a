"""A rank of the distributed tests, launched like torchrun launches one (RANK, WORLD_SIZE,
MASTER_ADDR, MASTER_PORT in the environment).

    python dist_worker.py MODE METHOD OUT_DIR

MODE ``step``: one sharded SGD step, saved as ``rank<r>.pt``; ``fit``: ``fit(distributed=True)``;
``fail``: rank 1 exits before training, rank 0 records the error ``fit`` raises;
``fail_step``: rank 1 exits after one step, rank 0 records the error of its second step;
``init``: join only.
"""

import os
import sys
import traceback
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import graph_fixture  # noqa: E402

from graphcl.distributed import count_communication, init_from_env, shard_graph, shutdown  # noqa: E402
from graphcl.distributed.training import ShardNet, sharded_step, wrap_ddp  # noqa: E402


def main(mode: str, method: str, out: Path) -> None:
    torch.set_num_threads(1)
    rank = int(os.environ["RANK"])
    try:
        ctx = init_from_env(init_timeout=float(os.environ.get("TEST_INIT_TIMEOUT", "30")))
    except Exception as exc:  # recorded for the test to inspect
        torch.save({"error": f"{type(exc).__name__}: {exc}"}, out / f"rank{rank}.pt")
        return
    data = graph_fixture.graph()
    est = graph_fixture.estimator(method)
    if mode in ("step", "fail_step"):
        encoder, decoder, assign = graph_fixture.initial_network(est, data.x)
        w_index, w_value = est.positive_weights(data.edge_index, None, data.num_nodes)
        shard = shard_graph(data.x, w_index, w_value, ctx.rank, ctx.world_size)
        net = wrap_ddp(ShardNet(encoder, assign, decoder), ctx)
        opt = torch.optim.SGD(net.parameters(), lr=graph_fixture.SGD_LR)
        with count_communication() as log:
            terms = sharded_step(est, net, shard, est.contrastive_loss(), opt, ctx)
        if mode == "fail_step":
            if rank == 1:
                os._exit(3)
            try:
                sharded_step(est, net, shard, est.contrastive_loss(), opt, ctx)
                torch.save({"error": None}, out / f"rank{rank}.pt")
            except Exception as exc:
                torch.save({"error": f"{type(exc).__name__}: {exc}"}, out / f"rank{rank}.pt")
            return
        params = [p.detach().clone() for p in graph_fixture.ordered_parameters(encoder, assign, decoder)]
        torch.save({"terms": terms, "params": params, "cross_pairs": shard.cross_pairs,
                    "pairs": shard.w_value.numel(), "bytes": dict(log.bytes)}, out / f"rank{rank}.pt")
    elif mode == "fit":
        est.set_params(distributed=True)
        est.fit(data)
        torch.save({"labels": torch.as_tensor(est.labels_), "z": torch.as_tensor(est.embeddings_),
                    "loss": [h["loss"] for h in est.loss_history_]}, out / f"rank{rank}.pt")
    elif mode == "fail":
        if rank == 1:
            os._exit(3)  # a rank that dies before the first training collective
        try:
            est.set_params(distributed=True)
            est.fit(data)
            torch.save({"error": None}, out / f"rank{rank}.pt")
        except Exception as exc:
            torch.save({"error": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc()}, out / f"rank{rank}.pt")
    shutdown()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], Path(sys.argv[3]))
