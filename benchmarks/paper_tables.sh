#!/usr/bin/env bash
# Reproduce benchmarks/results/paper/: the SPDER paper's tables at the CPU defaults (each task <= ~10 min
# on 2 cores), one task at a time under the shared CPU lock. Add --paper (and a GPU) for the paper's sizes.
set -euo pipefail
cd "$(dirname "$0")/.."
out=benchmarks/results/paper
for task in image audio superres audio-interp video gradient; do
  flock /tmp/spdr-cpu.lock spdr bench "$task" --out "$out" "$@"
done
flock /tmp/spdr-cpu.lock spdr bench image --arch spder-sqrt,spder-log,spder-atan,spder-sqrt-relu,siren --out "$out/damping" "$@"
