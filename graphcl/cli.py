"""The ``graphcl`` command line (also ``python -m graphcl``).

    graphcl fit --method pamc --dataset usps --out runs/usps
    graphcl fit --method scgc_star --features x.csv --edges edges.csv --n-clusters 5
    graphcl fit --method pamc --graph graph.npz --n-clusters 5 --epochs 50
    graphcl evaluate --dataset usps --pred runs/usps/labels.csv
    graphcl plot --run runs/usps --dataset usps
    graphcl datasets

Errors print one ``error: ...`` line naming the item at fault and exit with status 1 (bad
data: a missing or malformed file, an invalid value) or 2 (bad usage: missing or conflicting
options); never a traceback (``GRAPHCL_DEBUG=1`` shows one for an unexpected error).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from graphcl.errors import GraphclDistributedError, GraphclInputError

EXIT_DATA, EXIT_USAGE = 1, 2
#: The files ``graphcl fit`` writes into ``--out`` (replacing any already there).
FIT_OUTPUTS = ("labels.csv", "embeddings.npy", "summary.json")
MAX_SEED = 2**32 - 1  # numpy's seeding refuses larger seeds


class UsageError(Exception):
    """Bad combination of command-line options (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    """argparse with the package's error format: one ``error:`` line, exit status 2."""

    def error(self, message: str):  # type: ignore[override]
        sys.stderr.write(f"error: {message} (see `{self.prog} --help`)\n")
        raise SystemExit(EXIT_USAGE)


FIT_EXAMPLES = """examples:
  graphcl fit --method pamc --dataset usps --out runs/usps
  graphcl fit --method meow --dataset acm --epochs 50
  graphcl fit --method scgc_star --features x.csv --edges edges.csv --n-clusters 5
  graphcl fit --method pamc --graph graph.npz --n-clusters 5 --labels y.csv
  graphcl fit --method pamc --dataset usps --checkpoint ck.pt --log train.csv
  graphcl fit --method pamc --dataset usps --checkpoint ck.pt --resume ck.pt   # after an interruption

files: features: headerless CSV, one row of numbers per node (or .npy [N, F]); row i is node i
(node ids are 0-based). edges: two integer columns source,target holding 0-based node ids (row
numbers of the features file) and an optional weight column (or .npy [E, 2|3]); each edge is
used in both directions. labels: one integer per line, line i for node i (or .npy [N]). graph:
.npz with x [N, F], edge_index [2, E] (0-based ids), optional edge_weight [E] and y [N].

output: labels.csv (line i = the cluster of node i), embeddings.npy (row i = node i) and
summary.json in --out, replacing those files if they exist (and model.pt with --save-model);
prints ACC/NMI/ARI/F1 when labels are known.

hyperparameters: experiments/configs/<method>.yaml of the checkout (the dataset's block over
default:, which a user graph gets), else the estimator's defaults; --config FILE.yaml selects
another file of the same shape: {<method>: {default: {key: value, ...}, <dataset>: {...}}}.
Keys are the estimator's parameters (python -c "help(graphcl.models.PamC)"); values are YAML:
numbers unquoted (lr: 0.001 or lr: 1.0e-3), lists in brackets (hidden_channels: [256, 128]),
true/false, null. A value of the wrong type is refused before training starts.

The option values are checked before any data are read or any training starts: --checkpoint and
--log must be writable file paths, --out a writable folder, --resume an existing checkpoint file
(written by an earlier run's --checkpoint with the same settings and graph)."""

EVALUATE_EXAMPLES = """examples:
  graphcl evaluate --dataset usps --pred runs/usps/labels.csv
  graphcl evaluate --labels y.csv --pred labels.csv --json"""

PLOT_EXAMPLES = """examples:
  graphcl plot --run runs/usps --dataset usps     # tsne.png (clusters | labels) and loss.png
  graphcl plot --run out --labels y.csv --out figures

reads embeddings.npy, labels.csv and summary.json (its loss history) of a `graphcl fit` folder."""

DATASETS_EXAMPLES = """examples:
  graphcl datasets            # both families, sizes, checksum of every shipped file
  graphcl datasets --no-verify"""


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="graphcl", description="Graph contrastive clustering and embedding (SCGC, SCGC*, PamC, MEOW, AdaMEOW).",
                epilog="run `graphcl COMMAND --help` for a command's options and examples",
                formatter_class=argparse.RawDescriptionHelpFormatter)
    from graphcl import __version__
    from graphcl.models import available, info

    methods = available()
    families: Dict[str, List[str]] = {}
    for name in methods:
        families.setdefault(info(name).family, []).append(name)
    p.add_argument("--version", action="version", version=f"graphcl {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    fit = sub.add_parser("fit", help="train a method on a dataset or your own graph",
                         description="Train a method and write its clustering and embeddings.",
                         epilog=FIT_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    fit.add_argument("--method", required=True, choices=methods,
                     help="; ".join(f"{family}: {', '.join(names)}" for family, names in families.items()))
    src = fit.add_mutually_exclusive_group(required=True)
    src.add_argument("--dataset", help="a shipped dataset (see `graphcl datasets`)")
    src.add_argument("--features", metavar="FILE", help="node features (CSV or .npy); needs --edges and --n-clusters")
    src.add_argument("--graph", metavar="FILE.npz", help="a whole graph (x, edge_index, optional edge_weight, y); needs --n-clusters")
    fit.add_argument("--edges", metavar="FILE", help="edge list (CSV or .npy), with --features")
    fit.add_argument("--n-clusters", type=int, metavar="K", help="clusters (default for a dataset: its number of classes)")
    fit.add_argument("--labels", metavar="FILE", help="known labels of a user graph, to print the metrics")
    fit.add_argument("--epochs", type=int, help="override the configured number of epochs")
    fit.add_argument("--negatives", metavar="KIND",
                     help="override the estimator's negatives: pamc mass or meta; meow pairs (every target) or meta "
                          "(cluster meta-nodes, linear in N)")
    fit.add_argument("--seed", type=int, default=0, help=f"random seed, 0..{MAX_SEED} (default 0)")
    fit.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1 or auto (default cpu)")
    fit.add_argument("--config", metavar="FILE.yaml", help="hyperparameter file (default: the checkout's experiments/configs)")
    fit.add_argument("--out", default=".", metavar="DIR",
                     help="output folder (default: the current directory); its labels.csv, embeddings.npy and summary.json are replaced")
    fit.add_argument("--log", metavar="FILE", help="per-epoch log: loss terms and seconds (.csv, or JSON lines)")
    fit.add_argument("--checkpoint", metavar="FILE.pt", help="save the training state every --checkpoint-every epochs")
    fit.add_argument("--checkpoint-every", type=int, default=10, metavar="N", help="epochs between checkpoints (10)")
    fit.add_argument("--resume", metavar="FILE.pt",
                     help="continue from an existing training checkpoint (same settings and graph); the --log file drops "
                          "the rows of the epochs run again")
    fit.add_argument("--select", action="store_true",
                     help="label-free selection (homogeneous methods): fit a small grid (input X or A_hat^2 X, influence "
                          "order 1 or 3, then the temperature x0.5 / x2 at the pair --select-criterion prefers) and write the "
                          "consensus of their clusterings (--select-combine); summary.json lists every grid point (see "
                          "docs/selection.md)")
    fit.add_argument("--select-max-positives", type=float, default=None, metavar="P",
                     help="--select skips an influence order above the grid's smallest whose positive pairs exceed P per "
                          "node on average (default: graphcl.selection.DEFAULT_MAX_POSITIVES, 256)")
    fit.add_argument("--select-criterion", default=None,
                     choices=("modularity", "conductance", "silhouette", "modularity_gain"),
                     help="label-free score of --select and --restarts (default: silhouette for --select, the cosine "
                          "silhouette of the embedding; modularity for --restarts)")
    fit.add_argument("--select-combine", default="consensus", choices=("consensus", "best"),
                     help="--select: write the consensus of every grid point's clustering to labels.csv (consensus, the "
                          "default; embeddings.npy and --save-model are the grid point the criterion keeps), or that "
                          "grid point's own clustering (best)")
    fit.add_argument("--restarts", type=int, default=1, metavar="R",
                     help="homogeneous methods: fit the configuration from R seeds (SEED*R .. SEED*R+R-1) and keep the "
                          "best clustering by --select-criterion; summary.json lists every restart (docs/selection.md). "
                          "With --select: fit the whole grid from those R seeds (R x the fits) and combine all of them")
    fit.add_argument("--save-model", action="store_true", help="also write the fitted estimator to model.pt in --out")
    fit.add_argument("--quiet", action="store_true", help="print nothing but errors (no progress bar)")
    fit.add_argument("-v", "--verbose", action="count", default=0, help="log milestones (-v) and every epoch (-vv)")

    ev = sub.add_parser("evaluate", help="score predicted clusters against labels",
                        description="ACC (Hungarian matching), NMI, ARI and macro F1 of a clustering.",
                        epilog=EVALUATE_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    truth = ev.add_mutually_exclusive_group(required=True)
    truth.add_argument("--labels", metavar="FILE", help="true labels (CSV, one integer per line, or .npy)")
    truth.add_argument("--dataset", help="a shipped dataset whose labels to use")
    ev.add_argument("--heterogeneous", action="store_true", help="--dataset names a heterogeneous dataset (acm, dblp exist in both)")
    ev.add_argument("--pred", required=True, metavar="FILE", help="predicted clusters (labels.csv of `graphcl fit`)")
    ev.add_argument("--json", action="store_true", help="print the metrics as JSON")

    pl = sub.add_parser("plot", help="t-SNE of the embeddings and the loss curve of a fit, as PNG",
                        description="Draw tsne.png (coloured by predicted cluster, and by label when known) and loss.png.",
                        epilog=PLOT_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    pl.add_argument("--run", required=True, metavar="DIR", help="the --out folder of `graphcl fit`")
    known = pl.add_mutually_exclusive_group()
    known.add_argument("--labels", metavar="FILE", help="true labels, for a second t-SNE panel")
    known.add_argument("--dataset", help="a shipped dataset whose labels to show")
    pl.add_argument("--heterogeneous", action="store_true", help="--dataset is heterogeneous (acm, dblp exist in both)")
    pl.add_argument("--out", metavar="DIR", help="where to write the PNGs (default: --run)")
    pl.add_argument("--seed", type=int, default=0, help="t-SNE seed")

    ds = sub.add_parser("datasets", help="list the shipped datasets and verify their checksums",
                        description="Both dataset families with their sizes; every shipped file's sha256 is checked.",
                        epilog=DATASETS_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    ds.add_argument("--no-verify", action="store_true", help="skip the checksums")
    return p


# -- helpers --------------------------------------------------------------------------------------------


def _config_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "experiments" / "configs"


def hyperparameters(method: str, dataset: Optional[str], config: Optional[str]) -> Tuple[Dict[str, Any], str]:
    """The estimator's keyword arguments from a config file: the dataset's block over
    ``default:`` (a user graph gets ``default:``). Returns ``(params, source)``."""
    from graphcl.experiment import estimator_params, load_config
    from graphcl.models import info

    where = info(method).config
    if where is None and not config:
        return {}, f"estimator defaults ({method} has no config file)"
    fname, section = where if where is not None else (None, method)
    path = Path(config) if config else _config_dir() / fname
    if not config and not path.is_file():
        return {}, "estimator defaults (no experiments/configs found)"
    if config and path.is_dir():
        raise GraphclInputError(f"--config {config!r} is a folder: give a YAML file")
    import yaml

    try:
        block = load_config(path, section, dataset or "default")
    except yaml.YAMLError as exc:
        raise GraphclInputError(f"config file {path} is not valid YAML: {' '.join(str(exc).split())}") from None
    if not isinstance(block, dict):
        raise GraphclInputError(f"config file {path}: the {section!r} block must map keys to values")
    return estimator_params(block), str(path)


def _check_options(args) -> None:
    """Check every plain option value of ``fit`` before any data are read (GraphclInputError,
    or UsageError for a bad combination)."""
    from graphcl.validation import check_int, check_n_clusters, check_writable_dir, check_writable_file

    hetero = _family(args.method) == "heterogeneous"
    if hetero and not args.dataset:
        from graphcl.data import list_hetero_datasets

        raise UsageError(f"--method {args.method} trains on heterogeneous graphs: give --dataset "
                         f"({', '.join(list_hetero_datasets())}); --features/--edges/--graph describe a homogeneous graph")
    if args.dataset and (args.edges or args.labels):
        raise UsageError("--edges/--labels describe a user graph: not with --dataset")
    if args.graph and args.edges:
        raise UsageError("--edges goes with --features; a --graph file holds its own edge_index")
    if not hetero:
        if args.features and not args.edges:
            raise UsageError("--features needs --edges FILE")
        if (args.features or args.graph) and args.n_clusters is None:
            raise UsageError("--n-clusters K is required for a user graph")
    if args.n_clusters is not None:
        check_n_clusters(args.n_clusters, name="--n-clusters")
    if args.epochs is not None:
        check_int(args.epochs, "--epochs", minimum=1)
    check_int(args.seed, "--seed", minimum=0, maximum=MAX_SEED)
    check_int(args.checkpoint_every, "--checkpoint-every", minimum=1)
    _check_device(args.device)
    out = check_writable_dir(args.out, "--out")
    for name in FIT_OUTPUTS + (("model.pt",) if args.save_model else ()):
        check_writable_file(out / name, "--out")
    if args.log:
        check_writable_file(args.log, "--log")
    if args.checkpoint:
        check_writable_file(args.checkpoint, "--checkpoint")
    if args.resume:
        _check_readable_file(args.resume, "--resume", args.checkpoint)


def _check_readable_file(path: str, option: str, checkpoint: Optional[str] = None) -> None:
    p = Path(path)
    if not p.exists():
        hint = " (a first run writes it with --checkpoint; --resume only continues from it)" if checkpoint else ""
        raise GraphclInputError(f"{option} {path!r} does not exist{hint}")
    if not p.is_file():
        raise GraphclInputError(f"{option} {path!r} is not a file")
    if not os.access(p, os.R_OK):
        raise GraphclInputError(f"{option} {path!r} is not readable")


def _check_device(device: str) -> None:
    """``--device``: ``cpu``, ``auto``, or ``cuda[:N]`` on a machine with that GPU."""
    import torch

    if device == "auto":
        return
    try:
        dev = torch.device(device)
    except (RuntimeError, ValueError):
        dev = None
    if dev is None or dev.type not in ("cpu", "cuda"):
        raise GraphclInputError(f"--device must be cpu, cuda, cuda:N or auto, got {device!r}")
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise GraphclInputError(f"--device {device}: CUDA is not available on this machine (use --device cpu or auto)")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise GraphclInputError(f"--device {device}: this machine has {torch.cuda.device_count()} CUDA device(s)")


def _family(method: str) -> str:
    from graphcl.models import info

    return info(method).family


def _load_homogeneous(args) -> Tuple[Any, Optional[Any], int, Dict[str, Any]]:
    """(graph without labels, labels or None, n_clusters, source description)."""
    from graphcl.data import load_dataset, read_graph_npz, read_labels, read_user_graph
    from graphcl.experiment import without_labels

    if args.dataset:
        data = load_dataset(args.dataset)
        k = args.n_clusters or int(data.num_classes)
        return without_labels(data), data.y.numpy(), k, {"dataset": data.name}
    if args.features:
        data = read_user_graph(args.features, args.edges)
        source = {"features": str(args.features), "edges": str(args.edges)}
    else:
        data = read_graph_npz(args.graph)
        source = {"graph": str(args.graph)}
    y = None
    if args.labels:
        y = read_labels(args.labels)
        if y.shape[0] != data.num_nodes:
            raise GraphclInputError(f"labels file {args.labels} has {y.shape[0]} labels for {data.num_nodes} nodes "
                                    "(one line per node, line i for node i)")
    elif getattr(data, "y", None) is not None:
        y = data.y.numpy()
    return without_labels(data), y, args.n_clusters, source


def _load_heterogeneous(args) -> Tuple[Any, Any, int, Dict[str, Any]]:
    import numpy as np

    from graphcl.data import load_hetero_dataset
    from graphcl.experiment import without_labels

    data = load_hetero_dataset(args.dataset)
    target = data.target_node_type
    y = data[target].y.numpy()
    k = args.n_clusters or int(len(np.unique(y)))
    return without_labels(data, target), y, k, {"dataset": args.dataset, "family": "heterogeneous", "target": target}


def _estimator_params(method: str, config: Dict[str, Any], config_source: str,
                      args) -> Tuple[type, Dict[str, Any], Dict[str, str]]:
    """The estimator class, its keyword arguments (all but ``n_clusters``, ``random_state`` and
    ``device``: the config's values with the command line's over them) and, for each argument
    taken from the config, its config key. A config key that is not a parameter of the
    estimator is refused here, before any data are read."""
    from graphcl.models import get

    cls = get(method)
    known = set(cls._get_param_names())
    # Former parameter names (MEOW's max_epochs -> epochs, hidden_channels -> embedding_dim): the
    # checkout's configs may still use them, a user's config gets a deprecation warning.
    aliases = {old: new for old, new in {"max_epochs": "epochs", **getattr(cls, "deprecated_names", {})}.items()
               if new in known and old not in known}
    unknown = sorted(set(config) - known - set(aliases))
    if unknown:
        raise GraphclInputError(f"config keys {unknown} in {config_source} are not parameters of {cls.__name__}")
    for old in set(config) & set(aliases):
        if aliases[old] in config:
            raise GraphclInputError(f"{config_source} sets both {aliases[old]} and {old} (the former name of "
                                    f"{aliases[old]}): keep {aliases[old]}")
        if getattr(args, "config", None):
            warnings.warn(f"config key {old!r} in {config_source} is a deprecated name: write {aliases[old]!r}", FutureWarning,
                          stacklevel=2)
    epochs_name = "epochs" if "epochs" in known or "max_epochs" not in known else "max_epochs"
    params: Dict[str, Any] = {}
    origins: Dict[str, str] = {}
    for key, value in config.items():
        name = aliases.get(key, key)
        params[name], origins[name] = value, key
    if args.epochs is not None:
        params[epochs_name] = args.epochs
        origins.pop(epochs_name, None)
    if getattr(args, "negatives", None) is not None:
        if "negatives" not in known:
            raise GraphclInputError(f"--negatives: {cls.__name__} has no choice of negatives")
        params["negatives"] = args.negatives
        origins.pop("negatives", None)
    params.update(progress=not args.quiet, epoch_log=args.log, checkpoint=args.checkpoint,
                  checkpoint_every=args.checkpoint_every)
    return cls, params, origins


def _from_config(exc: GraphclInputError, origins: Dict[str, str], config_source: str) -> GraphclInputError:
    """``exc`` with the config file named when its message is about a value from that file
    (the message starts with the parameter's name)."""
    import re

    text = str(exc)
    for name, key in origins.items():
        if re.match(rf"{re.escape(name)}\b", text):
            return GraphclInputError(f"{text} (key {key!r} in {config_source})")
    return exc


def _say(args, text: str) -> None:
    if not getattr(args, "quiet", False):
        print(text, flush=True)


def _metric_line(metrics: Dict[str, float]) -> str:
    return "  ".join(f"{k.upper()} {metrics[k]:.4f}" for k in ("acc", "nmi", "ari", "f1"))


# -- commands ---------------------------------------------------------------------------------------------


def cmd_fit(args) -> int:
    import numpy as np

    from graphcl import __version__
    from graphcl.metrics import evaluate_clustering
    from graphcl.validation import check_n_clusters

    hetero = _family(args.method) == "heterogeneous"
    several = "--select fits several configurations" if args.select else \
        "--restarts fits several seeds" if args.restarts > 1 else None
    if several and hetero:
        raise UsageError(f"{several.split()[0]} works on homogeneous methods, not {args.method}")
    if several and (args.resume or args.checkpoint or args.log):
        raise UsageError(f"{several}: not with --checkpoint, --resume or --log")
    if args.restarts < 1:
        raise UsageError(f"--restarts must be a positive integer, got {args.restarts}")
    if args.select_combine != "consensus" and not args.select:
        raise UsageError("--select-combine goes with --select")
    if args.restarts > 1 and not args.select and args.select_criterion == "modularity_gain":
        raise UsageError("--select-criterion modularity_gain is for --select: the restarts share one input, so it "
                         "orders them as modularity does")
    _check_options(args)
    config, config_source = hyperparameters(args.method, args.dataset, args.config)
    cls, params, origins = _estimator_params(args.method, config, config_source, args)
    data, y, k, source = _load_heterogeneous(args) if hetero else _load_homogeneous(args)
    n = int(data[data.target_node_type].num_nodes) if hetero else int(data.num_nodes)
    check_n_clusters(k, n, "--n-clusters" if args.n_clusters is not None else "the number of classes")
    try:
        model = cls(n_clusters=k, random_state=args.seed, device=args.device, **params)
    except TypeError as exc:  # an estimator whose __init__ refuses a value's type
        raise GraphclInputError(f"{cls.__name__}: {exc} (check {config_source})") from None
    except GraphclInputError as exc:
        raise _from_config(exc, origins, config_source) from None
    _say(args, f"fitting {args.method} on {source.get('dataset') or source.get('graph') or source.get('features')} "
               f"({n} nodes, {k} clusters, seed {args.seed}) ...")
    if args.verbose:
        from graphcl.progress import set_verbosity

        set_verbosity("DEBUG" if args.verbose > 1 else "INFO")
    t0 = time.perf_counter()
    selection = restarted = None
    criterion = {} if args.select_criterion is None else {"criterion": args.select_criterion}  # else each one's default
    positives = {} if args.select_max_positives is None else {"max_positives": args.select_max_positives}
    try:
        if args.restarts > 1 and not args.select:
            from graphcl.restarts import best_of_restarts

            restarted = best_of_restarts(args.method, data, k, params={**params, "device": args.device},
                                         restarts=args.restarts, random_state=args.seed,
                                         log=lambda text: _say(args, text), **criterion)
            model = restarted.estimator
        elif args.select:
            from graphcl.selection import select

            selection = select(args.method, data, k, params={**params, "device": args.device}, random_state=args.seed,
                               **criterion, **positives, combine=args.select_combine, restarts=args.restarts,
                               log=lambda text: _say(args, text))
            model = selection.estimator
        else:
            model.fit(data, resume=args.resume)
    except GraphclInputError as exc:
        raise _from_config(exc, origins, config_source) from None
    seconds = time.perf_counter() - t0
    labels = np.asarray(model.labels_ if selection is None else selection.labels, dtype=np.int64)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    np.savetxt(out / "labels.csv", labels, fmt="%d")
    np.save(out / "embeddings.npy", np.asarray(model.embeddings_, dtype=np.float32))
    summary = {
        "graphcl_version": __version__, "command": "graphcl " + " ".join(sys.argv[1:]) if sys.argv else "graphcl fit",
        "method": args.method, "source": source, "num_nodes": n, "n_clusters": k, "seed": args.seed,
        "n_predicted_clusters": int(len(np.unique(labels))), "config": config_source,
        "params": {key: (list(v) if isinstance(v, tuple) else v) for key, v in model.get_params().items()},
        "fit_seconds": seconds,
        "epochs": len(model.loss_history_),
        "final_loss": model.loss_history_[-1] if model.loss_history_ else None,
        "loss_history": model.loss_history_,
    }
    if selection is not None:
        summary["selection"] = selection.summary()
    if restarted is not None:
        summary["restarts"] = restarted.summary()
    if y is not None:
        summary["metrics"] = evaluate_clustering(y, labels)
    (out / "summary.json").write_text(json.dumps(summary, indent=1, default=str) + "\n")
    if args.save_model:
        model.save(out / "model.pt")
    _say(args, f"done in {seconds:.1f} s ({summary['epochs']} epochs): {out / 'labels.csv'}, "
               f"{out / 'embeddings.npy'}, {out / 'summary.json'}")
    if y is not None:
        _say(args, _metric_line(summary["metrics"]))
    return 0


def cmd_evaluate(args) -> int:
    import numpy as np

    from graphcl.data import read_labels
    from graphcl.metrics import evaluate_clustering

    if args.heterogeneous and not args.dataset:
        raise UsageError("--heterogeneous goes with --dataset")
    if args.labels:
        y, what = read_labels(args.labels), str(args.labels)
    else:
        y, what = _dataset_labels(args.dataset, args.heterogeneous), f"dataset {args.dataset}"
    pred = read_labels(args.pred, "predictions")
    if pred.shape[0] != y.shape[0]:
        raise GraphclInputError(f"predictions file {args.pred} has {pred.shape[0]} rows but {what} has {y.shape[0]} labels")
    metrics = evaluate_clustering(y, pred)
    metrics["n_predicted_clusters"] = int(len(np.unique(pred)))
    print(json.dumps(metrics) if args.json else _metric_line(metrics) + f"  ({metrics['n_predicted_clusters']} clusters)")
    return 0


def _dataset_labels(name: str, heterogeneous: bool):
    from graphcl.data import list_datasets, load_dataset, load_hetero_dataset

    if heterogeneous or name.lower() not in list_datasets():
        data = load_hetero_dataset(name)
        return data[data.target_node_type].y.numpy()
    return load_dataset(name).y.numpy()


def cmd_plot(args) -> int:
    import numpy as np

    from graphcl.data import read_labels
    from graphcl.plot import plot_embeddings, plot_loss

    run = Path(args.run)
    for fname in ("embeddings.npy", "labels.csv", "summary.json"):
        if not (run / fname).is_file():
            raise GraphclInputError(f"{run / fname} does not exist: --run must be the --out folder of `graphcl fit`")
    try:
        emb = np.load(run / "embeddings.npy", allow_pickle=False)
        summary = json.loads((run / "summary.json").read_text())
    except (ValueError, OSError) as exc:
        raise GraphclInputError(f"{run}: unreadable embeddings.npy or summary.json ({exc})") from None
    pred = read_labels(run / "labels.csv", "predictions")
    truth = None
    if args.labels:
        truth = read_labels(args.labels)
    elif args.dataset:
        truth = _dataset_labels(args.dataset, args.heterogeneous)
    out = Path(args.out) if args.out else run
    t0 = time.perf_counter()
    title = f"{summary.get('method', '')} on {(summary.get('source') or {}).get('dataset', run.name)}"
    tsne = plot_embeddings(emb, pred, out / "tsne.png", true_labels=truth, seed=args.seed, title=title)
    loss = plot_loss(summary.get("loss_history") or [], out / "loss.png", title=title)
    print(f"wrote {tsne} and {loss} in {time.perf_counter() - t0:.1f} s")
    return 0


def cmd_datasets(args) -> int:
    from graphcl.data import dataset_info, hetero_dataset_info, list_datasets, list_hetero_datasets, verify_dataset

    problems: List[str] = []

    def status(name: str, heterogeneous: bool) -> str:
        if args.no_verify:
            return "not checked"
        try:
            found = verify_dataset(name, heterogeneous=heterogeneous)
        except GraphclInputError as exc:
            found = [str(exc)]
        problems.extend(found)
        return "ok" if not found else f"{len(found)} problem(s)"

    print("homogeneous (graphcl.data.load_dataset):")
    print(f"  {'name':<10}{'nodes':>8}{'edges':>10}{'features':>10}{'classes':>9}  checksums")
    for name in list_datasets():
        info = dataset_info(name)
        print(f"  {name:<10}{info.num_nodes:>8}{info.num_edges:>10}{info.num_features:>10}{info.num_classes:>9}  {status(name, False)}")
    print("heterogeneous (graphcl.data.load_hetero_dataset):")
    print(f"  {'name':<10}{'target':<9}{'classes':>8}  {'nodes per type':<58}{'meta-paths':<22}checksums")
    for name in list_hetero_datasets():
        info = hetero_dataset_info(name)
        types = ", ".join(f"{t} {n}" for t, n in info.node_types.items())
        print(f"  {name:<10}{info.target:<9}{info.num_classes:>8}  {types:<58}{' '.join(info.metapaths):<22}{status(name, True)}")
    for line in problems:
        print(f"error: {line}", file=sys.stderr)
    return EXIT_DATA if problems else 0


COMMANDS = {"fit": cmd_fit, "evaluate": cmd_evaluate, "plot": cmd_plot, "datasets": cmd_datasets}


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Print a warning as one ``warning: <message>`` line on stderr (no source line)."""
    text = " ".join(str(message).split())
    try:
        (file or sys.stderr).write(f"warning: {text}\n")
    except (OSError, ValueError):  # a closed stream: warnings are best-effort
        pass


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of the ``graphcl`` console script; returns the exit status."""
    args = build_parser().parse_args(argv)
    previous = warnings.showwarning
    warnings.showwarning = _show_warning
    try:
        return _run(args)
    finally:
        warnings.showwarning = previous


def _run(args) -> int:
    try:
        return COMMANDS[args.command](args)
    except UsageError as exc:
        print(f"error: {exc} (see `graphcl {args.command} --help`)", file=sys.stderr)
        return EXIT_USAGE
    except (GraphclInputError, GraphclDistributedError, FloatingPointError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_DATA
    except OSError as exc:  # a folder that cannot be written, a full disk
        print(f"error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
        return EXIT_DATA
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the promise is: never a traceback
        if os.environ.get("GRAPHCL_DEBUG"):
            raise
        print(f"error: unexpected {type(exc).__name__}: {exc} (set GRAPHCL_DEBUG=1 for the traceback, and please report it)",
              file=sys.stderr)
        return EXIT_DATA


if __name__ == "__main__":
    sys.exit(main())
