#!/usr/bin/env bash
# Fill the results tables (DESIGN §4.6 seeds), cheapest runs first, homogeneous then heterogeneous. Each seed's
# result is written to experiments/results/<method>/<dataset>.json as it lands, and seeds
# already in a file with the same config are skipped (unless they lack per-seed provenance from
# a clean tree: legacy seeds are re-run at HEAD), so the sweep can be stopped and resumed
# across sessions. It needs a committed tree (the scripts refuse to write results otherwise). Usage: bash experiments/run_tables.sh [python]
set -u
cd "$(dirname "$0")/.."
PY=${1:-.venv/bin/python}
have_seed() {  # have_seed METHOD DATASET SEED
  have_seed_in "experiments/results/$1/$2.json" "$3"
}
have_seed_in() {  # have_seed_in RESULT_FILE SEED
  "$PY" - "$@" <<'PYEOF'
import json, sys
from pathlib import Path
p, s = Path(sys.argv[1]), int(sys.argv[2])
def clean(r):  # a seed with its own provenance from a clean tree (legacy seeds are re-run)
    c = str(r.get("git_commit") or "-dirty")
    return r.get("command") and r.get("started_at") and not c.endswith("-dirty") and not r.get("allow_dirty")
sys.exit(0 if p.exists() and any(r["seed"] == s and clean(r) for r in json.loads(p.read_text())["runs"]) else 1)
PYEOF
}
run() {  # run METHOD DATASET SEEDS...  (scgc.py methods; pamc* go to pamc.py, selected to selected.py, meow* and adameow to meow.py)
  local m=$1 d=$2; shift 2
  for s in "$@"; do
    if have_seed "$m" "$d" "$s"; then continue; fi
    case "$m" in
      pamc|pamc_reference) "$PY" experiments/pamc.py --method "$m" --dataset "$d" --seeds "$s" ;;
      selected) "$PY" experiments/selected.py --dataset "$d" --seeds "$s" ;;
      meow|meow_reference|meow_linear|adameow) "$PY" experiments/meow.py --method "$m" --dataset "$d" --seeds "$s" ;;
      pamc_soft) "$PY" experiments/pamc.py --dataset "$d" --seeds "$s" --meta-nodes soft ;;
      *_restarts5) "$PY" experiments/restarts.py --method "${m%_restarts5}" --restarts 5 --dataset "$d" --seeds "$s" ;;
      *) "$PY" experiments/scgc.py --method "$m" --dataset "$d" --seeds "$s" ;;
    esac || echo "FAILED $m $d seed $s"
  done
}
for d in usps acm dblp cite cora photo; do
  run kmeans "$d" 0 1 2 3 4
  run kmeans_smoothed "$d" 0 1 2 3 4
done
run scgc_star usps 0 1 2 3 4 5 6 7 8 9
for d in cora dblp acm cite photo; do run scgc_star "$d" 0 1 2 3 4; done
run pamc usps 0 1 2 3 4 5 6 7 8 9
for d in cora dblp acm cite photo usps; do run scgc "$d" 0 1 2 3 4; done
for d in cora dblp acm cite photo; do run pamc "$d" 0 1 2 3 4; done
run pamc_reference usps 0 1 2 3 4 5 6 7 8 9
for d in acm dblp cite cora photo; do run pamc_reference "$d" 0 1 2 3 4; done
ablate() {  # ablate METHOD DATASET KEY=VALUE SEEDS...  (meow.py --set: results/ablations/<method>_<dataset>_<KEY>-<VALUE>.json)
  local m=$1 d=$2 kv=$3; shift 3
  for s in "$@"; do
    if have_seed_in "experiments/results/ablations/${m}_${d}_${kv/=/-}.json" "$s"; then continue; fi
    "$PY" experiments/meow.py --method "$m" --dataset "$d" --set "$kv" --seeds "$s" || echo "FAILED $m $d $kv seed $s"
  done
}
for d in acm dblp cite cora usps photo; do run selected "$d" 0 1 2 3 4; done
# where the seed spread comes from: one shared pretraining per file (scgc.py --set pretrain_random_state=A)
ablate_homogeneous() {  # ablate_homogeneous METHOD DATASET KEY=VALUE SEEDS...  (results/ablations/<method>_<dataset>_<KEY>-<VALUE>.json)
  local m=$1 d=$2 kv=$3; shift 3
  for s in "$@"; do
    if have_seed_in "experiments/results/ablations/${m}_${d}_${kv/=/-}.json" "$s"; then continue; fi
    "$PY" experiments/scgc.py --method "$m" --dataset "$d" --set "$kv" --seeds "$s" || echo "FAILED $m $d $kv seed $s"
  done
}
for d in dblp usps; do
  for a in 0 1 2; do ablate_homogeneous scgc_star "$d" "pretrain_random_state=$a" 0 1 2; done
done
# restarts kept by modularity (experiments/restarts.py: 5 fits per seed)
for d in dblp photo cora usps acm cite; do run scgc_star_restarts5 "$d" 0 1 2 3 4; done
for d in photo cora dblp usps acm cite; do run pamc_restarts5 "$d" 0 1 2 3 4; done
run pamc_soft usps 0 1 2 3 4 5 6 7 8 9
for d in cora dblp acm cite photo; do run pamc_soft "$d" 0 1 2 3 4; done
# heterogeneous (the k-means baselines there write <dataset>_hetero.json: run them with meow.py directly)
for m in meow_reference meow meow_linear; do
  for d in dblp acm freebase imdb aminer; do run "$m" "$d" 0 1 2 3 4; done
done
for d in acm dblp aminer imdb; do run adameow "$d" 0 1 2 3 4; done
# issue 15's ACM candidates, one reference behaviour at a time on graphcl's MEOW, and AMiner's feature source
for kv in embedding=train concentration=similarity spherical_kmeans=False pathsim_ties=numpy; do
  ablate meow acm "$kv" 0 1 2 3 4
done
ablate meow aminer featureless=sketch 0 1 2 3 4
"$PY" experiments/make_tables.py
