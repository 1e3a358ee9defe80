#!/usr/bin/env bash
# One short GPU call for issue 15, for a machine with one or more CUDA GPUs:
#   1 process against torchrun with one process a GPU on the multi-segment guitar clip (benchmarks/ranks.py),
#   the 8000x6000 photo in bands on one GPU under --time 300 (peak host RSS, size back, seams; benchmarks/large_photo.py).
# Usage: OUT=/some/folder benchmarks/gpu_ranks.sh   (default folder benchmarks/results/gpu15)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-benchmarks/results/gpu15}
mkdir -p "$out"
gpus=$(python -c "import torch; print(torch.cuda.device_count())")
[ "$gpus" -ge 1 ] || { echo "no CUDA GPU here" >&2; exit 1; }
python benchmarks/ranks.py --device cuda --processes "$gpus" --steps 300 --out "$out/ranks.md"
python benchmarks/large_photo.py --time 300 --out "$out/large_photo.md"
