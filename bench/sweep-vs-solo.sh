#!/usr/bin/env bash
# Wall time of one sweep of N members against the same N members trained one by one with `train`,
# on the embedded model and data (its run defaults: batch 8 × 128 tokens, lr 1e-3, x8/k16 unless the
# members say otherwise). Usage:
#   bench/sweep-vs-solo.sh [mlsae-command] [max-tokens] [kinds] [expansion-factors] [ks]
# (defaults: dotnet <published mlsae.dll> or `dotnet run --project src/Mlsae.Cli -c Release --no-build --`,
# 300000 tokens, "mlsae,per-layer", "8", "8,16"). Prints JSON: the sweep's seconds, each solo run's, their
# sum, the ratio, and the first member's timings.json split (shared data + transformer vs the SAE steps).
set -euo pipefail
cd "$(dirname "$0")/.."
MLSAE=${1:-"dotnet run --project src/Mlsae.Cli -c Release --no-build --"}
TOKENS=${2:-300000}
KINDS=${3:-"mlsae,per-layer"}
FACTORS=${4:-8}
KS=${5:-"8,16"}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
common=(--max-tokens "$TOKENS" --val-every 0 --checkpoint-every 100000 --seed 0)
start=$(date +%s.%N)
$MLSAE sweep --out "$work/sweep" --kind "$KINDS" --expansion-factor "$FACTORS" -k "$KS" "${common[@]}" >/dev/null 2>"$work/sweep.err" || { cat "$work/sweep.err" >&2; exit 1; }
sweep_end=$(date +%s.%N)
solo=()
for dir in $(python3 -c "import json,sys; print(' '.join(m['dir'] for m in json.load(open(sys.argv[1]))['members']))" "$work/sweep/sweep.json"); do
  read -r kind factor k < <(python3 -c "import json,sys; m=[m for m in json.load(open(sys.argv[1]))['members'] if m['dir']==sys.argv[2]][0]; print(m['kind'], m['expansion_factor'], m['k'])" "$work/sweep/sweep.json" "$dir")
  s=$(date +%s.%N)
  $MLSAE train --out "$work/solo-$dir" --kind "$kind" --expansion-factor "$factor" -k "$k" "${common[@]}" >/dev/null 2>"$work/solo.err" || { cat "$work/solo.err" >&2; exit 1; }
  e=$(date +%s.%N)
  solo+=("$dir=$(python3 -c "print($e - $s)")")
done
python3 - "$work" "$start" "$sweep_end" "${solo[@]}" <<'PY'
import json, sys, os
work, start, end = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
solo = dict(a.split("=") for a in sys.argv[4:])
solo = {k: float(v) for k, v in solo.items()}
members = json.load(open(os.path.join(work, "sweep", "sweep.json")))["members"]
first = json.load(open(os.path.join(work, "sweep", members[0]["dir"], "timings.json")))
def checkpoints(root):
    # A per-layer family keeps one checkpoint per layer folder: compare every model.safetensors.
    return sorted(os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs if f == "model.safetensors")
def same(d):
    a, b = os.path.join(work, "sweep", d), os.path.join(work, "solo-" + d)
    names = checkpoints(b)
    return bool(names) and names == checkpoints(a) and all(open(os.path.join(a, n), "rb").read() == open(os.path.join(b, n), "rb").read() for n in names)
identical = all(same(d) for d in solo)
print(json.dumps({"members": [m["dir"] for m in members], "sweep_seconds": round(end - start, 1), "solo_seconds": {k: round(v, 1) for k, v in solo.items()},
                  "solo_total_seconds": round(sum(solo.values()), 1), "speedup": round(sum(solo.values()) / (end - start), 2),
                  "weights_identical": identical, "first_member_timings": first["seconds"]}, indent=2))
PY
