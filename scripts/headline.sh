#!/usr/bin/env bash
# The study's headline side by side with PyTorch (issue #12): cnn3, batch 1, Adam lr 1e-3, the study's
# 80/20 split, EPOCHS epochs; 3 honest seeds (validation carved from the 80 %) and 1 optimistic run (the
# whole 80 %, best test epoch) per engine, on the same exported features. Curves go to OUT as
# <engine>-<way>-seed<k>.jsonl, then `ser study report` writes OUT/REPORT.md and the figures.
#
#   scripts/headline.sh [ours|torch|both]     (default both: the two engines in parallel, one thread each)
#   PARALLEL=1 scripts/headline.sh ours       (the honest seeds of an engine in parallel too)
#   SEEDS="4 5" OPTIMISTIC=0 scripts/headline.sh torch   (more honest seeds only; the report takes every seed file)
#   OUT=reports/headline-floor WORK=runs/headline-floor REFERENCE=reports/headline SEEDS=5 OPTIMISTIC=0 scripts/headline.sh ours
#                                             (ours into another folder, reported against the PyTorch curves of REFERENCE)
#
# Resumable: our runs continue from their checkpoints in WORK (or, on a fresh clone, from the copies
# committed in OUT/checkpoints, with `scripts/headline.sh save` writing them there); a PyTorch run
# restarts unless its curve file already has EPOCHS lines (torch_seed_curve.py keeps no checkpoint).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/aesdd}
REF=${REF:-../shared/reference}
OUT=${OUT:-reports/headline}
WORK=${WORK:-runs/headline}
EPOCHS=${EPOCHS:-240}
SEEDS=${SEEDS:-"1 2 3"}
PY=${PYTHON:-python3}
"$PY" -c 'import torch' 2>/dev/null || PY=/usr/bin/python3   # Debian's python3-torch
mkdir -p "$OUT" "$WORK"
[ -f "$WORK/split/features.f32" ] || node bin/ser.js study export --data "$DATA" --out "$WORK/split"
F="$WORK/split/features.f32"

lines() { [ -f "$1" ] && grep -c . "$1" || echo 0; }

ours() { # way seed
  local ck="$OUT/checkpoints/ours-$1-seed$2.ckpt"
  if [ ! -f "$WORK/ours-$1-seed$2/checkpoint.ckpt" ] && [ -f "$ck" ]; then mkdir -p "$WORK/ours-$1-seed$2"; cp "$ck" "$WORK/ours-$1-seed$2/checkpoint.ckpt"; fi
  node bin/ser.js study curve --features "$F" --index "$WORK/split/$1.json" --epochs "$EPOCHS" --seed "$2" --threads 1 \
    --out "$WORK/ours-$1-seed$2" --curve "$OUT/ours-$1-seed$2.jsonl" --no-progress >/dev/null
}
torch() { # way seed
  local f="$OUT/torch-$1-seed$2.jsonl"
  [ "$(lines "$f")" -ge "$EPOCHS" ] && return 0
  "$PY" "$REF/torch_seed_curve.py" --features "$F" --index "$WORK/split/$1.json" --epochs "$EPOCHS" --seed "$2" --threads 1 > "$f"
}
run_engine() {
  if [ "${PARALLEL:-0}" = 1 ]; then
    local pids=()
    for s in $SEEDS; do "$1" honest "$s" & pids+=($!); done
    for p in "${pids[@]}"; do wait "$p"; done
  else
    for s in $SEEDS; do "$1" honest "$s"; done
  fi
  [ "${OPTIMISTIC:-1}" = 0 ] || "$1" optimistic "${SEEDS%% *}"
}
case "${1:-both}" in
  save) # copy unfinished runs' checkpoints into OUT/checkpoints (small: weights + Adam moments) to resume elsewhere;
        # a finished run's copy is removed (its curve file holds EPOCHS lines, and a stale checkpoint would re-train it)
    mkdir -p "$OUT/checkpoints"
    for d in "$WORK"/ours-*; do
      [ -f "$d/checkpoint.ckpt" ] && cp "$d/checkpoint.ckpt" "$OUT/checkpoints/$(basename "$d").ckpt"
    done
    for c in "$OUT"/checkpoints/*.ckpt; do
      [ -f "$c" ] && [ "$(lines "$OUT/$(basename "$c" .ckpt).jsonl")" -ge "$EPOCHS" ] && rm -f "$c"
    done
    exit 0 ;;
  ours) run_engine ours ;;
  torch) run_engine torch ;;
  both) run_engine ours & a=$!; run_engine torch & b=$!; wait $a; wait $b ;;
  *) echo "usage: scripts/headline.sh [ours|torch|both|save]" >&2; exit 2 ;;
esac
node bin/ser.js study report --dir "$OUT" --epochs "$EPOCHS" ${REFERENCE:+--reference "$REFERENCE"} >/dev/null
echo "headline: $OUT/REPORT.md"
