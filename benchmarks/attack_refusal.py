"""How fast and how small a real `spdr decode` process refuses each hostile file of the attack corpus.

Runs `python -c "from inrcodec.cli import main; main()" decode FILE` once per file of
tests/data/attacks/ (through tests/procstats.py, so the peak RSS is the child's own), and records
CPU seconds, wall seconds and peak resident memory. Writes benchmarks/results/attack_refusal.{json,md}.

    python benchmarks/attack_refusal.py [--limit N]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from _provenance import ROOT, markdown_provenance, provenance  # noqa: E402
from procstats import measured_spdr  # noqa: E402

CORPUS = ROOT / "tests" / "data" / "attacks"
OUT = ROOT / "benchmarks" / "results"


def percentile(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="only the first N files (sorted by name)")
    args = parser.parse_args()
    entries = json.loads((CORPUS / "MANIFEST.json").read_text())
    entries = sorted(entries, key=lambda e: e["file"])[:args.limit]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, entry in enumerate(entries):
            start = time.perf_counter()
            code, _, stderr, cpu, rss = measured_spdr("decode", str(CORPUS / entry["file"]), "-o", str(Path(tmp) / "out.png"),
                                                      cwd=Path(tmp))
            wall = time.perf_counter() - start
            lines = stderr.strip().splitlines()
            rows.append({"file": entry["file"], "exit": code, "one_line": len(lines) == 1 and lines[0].startswith("Error: "),
                         "cpu_s": round(cpu, 4), "wall_s": round(wall, 4), "peak_rss_mib": round(rss, 1)})
            if (i + 1) % 100 == 0:
                print(f"{i + 1}/{len(entries)} files", flush=True)
    cpu, wall, rss = ([r[k] for r in rows] for k in ("cpu_s", "wall_s", "peak_rss_mib"))
    summary = {"files": len(rows), "all_exit_1": all(r["exit"] == 1 for r in rows), "all_one_line": all(r["one_line"] for r in rows),
               "cpu_s": {"median": percentile(cpu, 0.5), "p95": percentile(cpu, 0.95), "max": max(cpu)},
               "wall_s": {"median": percentile(wall, 0.5), "p95": percentile(wall, 0.95), "max": max(wall)},
               "peak_rss_mib": {"median": percentile(rss, 0.5), "max": max(rss)}}
    prov = provenance()
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "attack_refusal.json").write_text(json.dumps({"provenance": prov, "summary": summary, "rows": rows}, indent=1) + "\n")
    slowest = sorted(rows, key=lambda r: -r["cpu_s"])[:5]
    md = ["# Attack corpus: refusal by a real `spdr decode` process", "",
          f"{summary['files']} hostile files; every one exits 1: {summary['all_exit_1']}; every one prints a single "
          f"`Error:` line: {summary['all_one_line']}. Each is a fresh process (interpreter start, imports and refusal).", "",
          "| measure | median | 95th percentile | max |", "|---|---|---|---|",
          f"| CPU seconds | {summary['cpu_s']['median']:.3f} | {summary['cpu_s']['p95']:.3f} | {summary['cpu_s']['max']:.3f} |",
          f"| wall seconds | {summary['wall_s']['median']:.3f} | {summary['wall_s']['p95']:.3f} | {summary['wall_s']['max']:.3f} |",
          f"| peak RSS MiB | {summary['peak_rss_mib']['median']:.1f} | | {summary['peak_rss_mib']['max']:.1f} |", "",
          "Slowest by CPU: " + ", ".join(f"`{r['file']}` {r['cpu_s']:.3f} s" for r in slowest), "",
          "Provenance:", "", markdown_provenance(prov), ""]
    (OUT / "attack_refusal.md").write_text("\n".join(md))
    print("\n".join(md))


if __name__ == "__main__":
    main()
