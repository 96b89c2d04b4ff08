#!/usr/bin/env bash
# Stages for commit what `dcd-train --resume` needs to continue each run in runs/ (its latest
# checkpoints and loss history; .gitignore keeps the rest out), so that a run outlives the machine
# it was started on. Pause or stop the trainings first (kill -STOP): the script refuses a run whose
# latest files are from different steps (a save in progress).
#   tools/stage_runs.sh [RUN...] && git commit -m "runs: state at ..."    (RUN: a name in runs/; default all)
set -euo pipefail
cd "$(dirname "$0")/.."
names=("$@")
if [ ${#names[@]} = 0 ]; then for d in runs/*/; do names+=("$(basename "$d")"); done; fi
for name in "${names[@]}"; do
  run=runs/${name%/}
  [ -d "$run" ] || { echo "$run: no such run" >&2; exit 1; }
  [ -e "$run/latest_training_state.safetensors" ] || continue
  # Each file's safetensors header (8-byte length, then JSON) records the step it was saved at.
  steps=$(for f in "$run"/latest_*.safetensors; do head -c "$((8 + $(head -c 8 "$f" | od -An -tu8)))" "$f" | grep -ao '"dcd_step":"[0-9]*"'; done | sort -u)
  if [ "$(printf '%s\n' "$steps" | wc -l)" != 1 ]; then
    echo "$run: latest files are from different steps ($(echo $steps)); pause the training and retry" >&2; exit 1
  fi
  git add -f "$run"/latest_*.safetensors "$run"/losses.tsv
  echo "$run: staged at $steps"
done
