"""The attack corpus (tests/data/attacks/): every hostile file is refused cleanly, fast and in little memory.

In-process through CliRunner for every file (decode, verify, info), plus a handful through a real
`spdr` subprocess whose wall time and peak memory are measured.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from attackgen import attack_generator
from click.testing import CliRunner
from procstats import measured_spdr

from inrcodec import errors
from inrcodec.cli import main

DATA = Path(__file__).parent / "data"
CORPUS = DATA / "attacks"
ENTRIES = json.loads((CORPUS / "MANIFEST.json").read_text())
OUTPUT_EXT = {"image": ".png", "audio": ".wav", "video": ".mp4"}
MAX_SECONDS, MAX_RSS_MB = 2.0, 500


def _refused(result) -> None:
    """Exit 1, exactly one stderr line 'Error: ...', no traceback."""
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 1, (result.exit_code, result.stdout, result.stderr, result.exception)
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_corpus_is_exactly_what_the_generator_writes():
    corpus = attack_generator().generate()
    assert len(corpus) >= 200
    on_disk = sorted(p.name for p in CORPUS.glob("*.spdr"))
    assert on_disk == sorted(corpus), "run python tests/data/make_attacks.py"
    for name, (data, _) in corpus.items():
        assert (CORPUS / name).read_bytes() == data, f"{name} differs: run python tests/data/make_attacks.py"
    assert (CORPUS / "MANIFEST.json").read_bytes() == attack_generator().manifest_bytes(corpus)
    assert {e["modality"] for e in ENTRIES} == {"image", "audio", "video"}


def test_every_base_is_a_valid_file():
    """The attacks start from files the reader accepts, so each refusal is the attack's doing."""
    from inrcodec.codec.verify import verify_bytes

    for b in attack_generator().bases().values():
        facts = verify_bytes(b.data)
        assert facts["modality"] == b.header["modality"]


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["file"] for e in ENTRIES])
def test_attack_is_refused(tmp_path, entry):
    path = CORPUS / entry["file"]
    out = tmp_path / f"out{OUTPUT_EXT[entry['modality']]}"
    runner = CliRunner()
    for command in ("decode", "verify", "info"):
        args = [command, str(path)] + (["-o", str(out)] if command == "decode" else [])
        result = runner.invoke(main, args)
        if command in entry["refused_by"]:
            _refused(result)
        else:
            assert result.exit_code == 0, (command, result.stderr)
    assert not any(tmp_path.iterdir()), "decode left a file behind"


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["file"] for e in ENTRIES])
def test_attack_raises_its_error_class(entry):
    """The API raises the error the generator promises (decode for output-stage files, verify for the rest)."""
    from inrcodec.api import decode
    from inrcodec.codec.verify import verify_bytes

    data = (CORPUS / entry["file"]).read_bytes()
    expected = getattr(errors, entry["error"])
    with pytest.raises(expected) as info:
        decode(data) if entry["stage"] == "output" else verify_bytes(data)
    assert "\n" not in str(info.value) and str(info.value)


# --- real processes: time and memory -------------------------------------------------------------------

HEAVIEST = [
    "image-gray--header-length-4gb.spdr",
    "image-gray--zstd-bomb-declares-4gib.spdr",
    "audio--zstd-bomb-declares-small-holds-1gib.spdr",
    "image-gray--arch-width-4096-depth-32-small-tensors.spdr",
    "audio--network-33m-weights-all-present.spdr",
    "video--scale-overflows-float32.spdr",
    "image-rgb--trailing-second-copy.spdr",
    "video--header-deep-nesting.spdr",
    "video--zstd-declares-256mib.spdr",
]


@pytest.mark.parametrize("name", HEAVIEST)
def test_refusal_in_a_real_process_is_fast_and_small(tmp_path, name):
    entry = next(e for e in ENTRIES if e["file"] == name)
    out = tmp_path / f"out{OUTPUT_EXT[entry['modality']]}"
    code, stdout, stderr, wall, rss = measured_spdr("decode", str(CORPUS / name), "-o", str(out), cwd=tmp_path)
    assert code == 1 and stderr.startswith("Error: ") and len(stderr.strip().splitlines()) == 1, stderr
    assert wall < MAX_SECONDS and rss < MAX_RSS_MB, f"{name}: {wall:.2f} s, {rss:.0f} MiB"
    assert "torch" not in stderr and not out.exists()
    print(f"{name}: refused in {wall:.2f} s, peak RSS {rss:.0f} MiB")


def test_oversized_file_refused_before_reading(tmp_path):
    """A sparse 600 MB file: refused by its size, never read into memory."""
    big = tmp_path / "big.spdr"
    with open(big, "wb") as f:
        f.truncate(600 * 2**20)
    code, _, stderr, wall, rss = measured_spdr("decode", str(big), "-o", str(tmp_path / "o.png"), cwd=tmp_path)
    assert code == 1 and "larger than" in stderr and wall < MAX_SECONDS and rss < 100, (stderr, wall, rss)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.spdr"]


def test_refusals_import_no_torch(tmp_path):
    """Every container, payload and network refusal happens before torch is imported (so it is fast)."""
    files = {e["file"]: str(tmp_path / f"out{OUTPUT_EXT[e['modality']]}") for e in ENTRIES if e["stage"] != "output"}
    code = ("import sys; from click.testing import CliRunner; from inrcodec.cli import main\n"
            f"for name, out in {files!r}.items():\n"
            f"    r = CliRunner().invoke(main, ['decode', {str(CORPUS)!r} + '/' + name, '-o', out])\n"
            "    assert r.exit_code == 1 and r.stderr.startswith('Error: '), (name, r.stderr)\n"
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
