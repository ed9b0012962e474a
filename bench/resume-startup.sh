#!/usr/bin/env bash
# Measures how long `train --resume` takes to start its next step after TOKENS tokens of a
# .jsonl.zst source, against the time of one step. Usage: bench/resume-startup.sh [mlsae-command] [tokens]
# (default: dotnet run --project src/Mlsae.Cli --no-build --, 2000000). The step times come from
# metrics.jsonl's "seconds" (time since the trainer started): the first step after a resume
# includes reopening the data stream at the saved position.
set -euo pipefail
cd "$(dirname "$0")/.."
MLSAE=${1:-"dotnet run --project src/Mlsae.Cli --no-build --"}
TOKENS=${2:-2000000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
$MLSAE create-model --out "$work/model" --layers 2 --d-model 32 --heads 4 --vocab 1024 --seed 1 >/dev/null
cp embedded/model/tokenizer.json embedded/model/tokenizer_config.json embedded/model/special_tokens_map.json "$work/model/"
$MLSAE generate-corpus --out "$work/docs.jsonl" --documents $((TOKENS / 100)) >/dev/null 2>&1
zstd -q -f "$work/docs.jsonl" -o "$work/docs.jsonl.zst"
args=(--model "$work/model" --data "$work/docs.jsonl.zst" --max-length 256 --batch-size 8 --accumulate-grad-batches 1
      --expansion-factor 4 -k 8 --auxk 32 --val-batches 1 --val-every 0 --log-every 1 --checkpoint-every 100000)
$MLSAE train "${args[@]}" --max-tokens "$TOKENS" --out "$work/run" >/dev/null 2>"$work/first.err"
python3 - "$work/run/run.json" "$TOKENS" <<'PY'
import json, sys
p, tokens = sys.argv[1], int(sys.argv[2])
o = json.load(open(p)); o["max_tokens"] = tokens + 8 * 256 * 3; json.dump(o, open(p, "w"))
PY
start=$(date +%s.%N)
$MLSAE train --resume --out "$work/run" >/dev/null 2>"$work/resume.err"
end=$(date +%s.%N)
python3 - "$work/run/metrics.jsonl" "$start" "$end" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if '"fvu_mean"' in l]
before = [l["seconds"] for l in lines[:-3]]
steps = [b - a for a, b in zip(before[-20:-1], before[-19:])]
step = sorted(steps)[len(steps) // 2]
first = lines[-3]["seconds"]
print(json.dumps({"tokens_before_resume": lines[-4]["tokens"], "median_step_s": round(step, 4),
                  "first_step_after_resume_s": round(first, 4), "ratio": round(first / step, 1),
                  "resume_command_wall_s": round(float(sys.argv[3]) - float(sys.argv[2]), 2)}))
PY
