#!/usr/bin/env bash
# The GPU check: everything in this project that needs CUDA, in one run of at most 8 minutes.
#
#   bash benchmarks/gpu_check.sh [OUT]           # on a machine with CUDA
#   bash benchmarks/gpu_check.sh --dry-run [OUT] # anywhere: says what it would run, runs nothing
#
# Steps (each under its own time limit, so that one slow step cannot eat the others' time):
#   1. the machine: nvidia-smi, torch's view of the GPU                            (10 s)
#   2. every CUDA test: pytest -m cuda                                             (90 s)
#   3. DTW on the GPU against the numba kernels (benchmarks/bench_dtw_gpu.py)      (60 s)
#   4. training throughput, quick and paper widths, float32 and mixed precision
#      (benchmarks/bench_training.py --amp)                                        (90 s)
#   5. chapters 02 and 04 in the paper profile, timed (python -m helpers.bookrun)  (180 s)
#   6. the paper profile's measurement file from what step 5 trained
#      (benchmarks/record_profile.py, cache hits only)                             (30 s)
# Every figure goes to OUT/gpu-check.md (default OUT: $OUT, else gpu-check/); each step's full
# log to OUT/<step>.log; the measurement JSON to OUT/ and to book/measurements/.
# Python: the active environment, else .venv (make env), else python3.
set -uo pipefail

DRY=0
if [[ "${1:-}" == "--dry-run" ]]; then DRY=1; shift; fi
DEST="${1:-${OUT:-gpu-check}}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
if [[ -n "${VIRTUAL_ENV:-}${CONDA_PREFIX:-}" ]]; then PY=python
elif [[ -x .venv/bin/python ]]; then PY=.venv/bin/python
else PY=python3; fi

mkdir -p "$DEST"
REPORT="$DEST/gpu-check.md"
export STGCN_CACHE_DIR="${STGCN_CACHE_DIR:-$ROOT/_build/cache}"

STEPS=(
  "machine|10|nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv; $PY -c 'import torch; print(torch.__version__, torch.version.cuda, torch.cuda.get_device_name(0))'"
  "cuda-tests|90|$PY -m pytest -q -m cuda -p no:cacheprovider tests"
  "dtw-gpu|60|$PY benchmarks/bench_dtw_gpu.py --device cuda --json $DEST/dtw-gpu.json"
  "training|90|$PY benchmarks/bench_training.py --device cuda --amp --repeats 3 --json $DEST/training.json"
  "chapters|180|$PY -m helpers.bookrun --profile paper --device cuda --out $DEST/notebooks -p second_dataset=None book/02_training.md book/04_embedding_geometry.md"
  "measurement|30|$PY benchmarks/record_profile.py --profile paper --device cuda --out $DEST/paper-cuda.json && cp $DEST/paper-cuda.json book/measurements/paper-cuda-\$(date +%F).json"
)

has_cuda() { $PY -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; }

if [[ $DRY == 1 ]] || ! has_cuda; then
  if [[ $DRY == 0 ]]; then echo "gpu_check: no CUDA device here (torch.cuda.is_available() is False)."; fi
  echo "gpu_check would run, with STGCN_CACHE_DIR=$STGCN_CACHE_DIR, writing $REPORT:"
  total=0
  for step in "${STEPS[@]}"; do
    IFS='|' read -r name limit cmd <<<"$step"
    total=$((total + limit))
    printf '  %-12s (at most %3s s)  %s\n' "$name" "$limit" "$cmd"
  done
  echo "  in all at most $total s ($((total / 60)) min $((total % 60)) s)."
  [[ $DRY == 1 ]] && exit 0 || exit 3
fi

{
  echo "# GPU check, $(date -u '+%F %T UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
  echo
} >"$REPORT"
status=0
for step in "${STEPS[@]}"; do
  IFS='|' read -r name limit cmd <<<"$step"
  start=$(date +%s%N)
  timeout --kill-after=5 "$limit" bash -c "$cmd" >"$DEST/$name.log" 2>&1
  rc=$?
  secs=$((($(date +%s%N) - start) / 1000000000))
  [[ $rc != 0 ]] && status=1
  verdict=$([[ $rc == 0 ]] && echo ok || ([[ $rc == 124 || $rc == 137 ]] && echo "TIMED OUT" || echo "FAILED rc=$rc"))
  {
    echo "## $name: $verdict in $secs s (limit $limit s)"
    echo
    echo '```'
    case $name in
      cuda-tests) tail -n 5 "$DEST/$name.log" ;;
      chapters) grep -E '\[bookrun\]|Error' "$DEST/$name.log" | tail -n 20 ;;
      *) tail -n 40 "$DEST/$name.log" ;;
    esac
    echo '```'
    echo
  } >>"$REPORT"
  echo "gpu_check: $name $verdict in $secs s"
done
echo "gpu_check: figures in $REPORT"
exit $status
