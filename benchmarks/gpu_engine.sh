#!/usr/bin/env bash
# One short GPU call for the image engine (issue 13), for a machine with CUDA:
#   the default encode of a 768x512 photo on the GPU (target: at most 60 s),
#   the paper-size Table 1 (256x256, 5x256 net, 25/100/500 steps),
#   spdr bench rd at 768 px (balanced preset) on two evaluation photos.
# Usage: OUT=/some/folder benchmarks/gpu_engine.sh   (default folder benchmarks/results/gpu13)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-benchmarks/results/gpu13}
mkdir -p "$out"
python benchmarks/engine_speed.py --photo motorcycle --preset balanced --device cuda --out "$out/engine_speed.md"
spdr bench image --paper --device cuda --out "$out/paper"
spdr bench rd chelsea rocket --paper --device cuda --quality 30,75 --out "$out/rd"
