"""The attack corpus (tests/data/attacks/): every hostile file is refused cleanly, fast and in little memory.

In-process through CliRunner for every file (decode, verify, info), plus a handful through a real
`spdr` subprocess whose CPU time and peak memory are measured.
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
MAX_PROCESS_CPU_SECONDS, MAX_RSS_MB = 4.0, 500  # a whole `spdr decode` process: interpreter, imports, refusal


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


# --- CPU work: every refusal is cheap, whatever the file declares ---------------------------------------

MAX_CPU_SECONDS = 0.5  # per file, in-process: a deliberately generous bound on the decoder's work


def _cpu_seconds(data: bytes) -> tuple[float, BaseException | None]:
    """CPU time of inrcodec.decode(data), and what it raised (None: it decoded)."""
    import time

    from inrcodec import decode

    start = time.process_time()
    try:
        decode(data)
    except errors.SpdrError as exc:
        return time.process_time() - start, exc
    return time.process_time() - start, None


def test_every_hostile_file_is_refused_in_well_under_a_second_of_cpu():
    _cpu_seconds((DATA / "golden_v1_1.spdr").read_bytes())  # imports and first-call costs paid here
    slowest = []
    for entry in ENTRIES:
        seconds, exc = _cpu_seconds((CORPUS / entry["file"]).read_bytes())
        assert isinstance(exc, getattr(errors, entry["error"])), (entry["file"], exc)
        slowest.append((seconds, entry["file"]))
    slowest.sort()
    assert slowest[-1][0] < MAX_CPU_SECONDS, slowest[-3:]
    print(f"slowest refusal: {slowest[-1][1]} in {slowest[-1][0] * 1000:.1f} ms CPU")


def worst_case_rc_file(stream_bytes: int) -> bytes:
    """A latent-grid file whose stream of zero bytes decodes as runs of the most probable symbol (the most
    values per byte) and whose header declares as many values as its stream may hold (entropy.max_decisions)."""
    from inrcodec.format import compact, entropy

    gen = attack_generator()
    b = gen.bases()["image-grid-gray"]
    header = gen.copy.deepcopy(b.header)
    specs = header["quant"]["tensors"]
    others = sum(gen.math.prod(s["shape"]) for name, s in specs.items() if name != "latents")
    room = entropy.max_decisions(stream_bytes) - others
    height = 1512
    header["arch"].update(grid_levels=1, grid_height=height, grid_width=room // height)
    specs["latents"]["shape"] = [height * (room // height)]
    specs["net.0.weight"]["shape"][1] = 1
    scales = sum(4 * gen.math.prod(s["scale_shape"]) for s in specs.values())
    payload = b.payload[:scales] + bytes(stream_bytes)
    assert entropy.max_decisions(stream_bytes) - sum(gen.math.prod(s["shape"]) for s in specs.values()) < height
    return gen.assemble(compact.compress_header(gen.canonical_json(header)), payload, minor=1)


@pytest.mark.parametrize("stream_bytes", [16, 128])
def test_worst_case_stream_at_the_values_per_byte_ceiling_costs_under_the_bound(stream_bytes):
    from inrcodec.format import compact, entropy

    data = worst_case_rc_file(stream_bytes)
    _cpu_seconds((DATA / "golden_v1_1.spdr").read_bytes())
    seconds, exc = _cpu_seconds(data)
    assert exc is None or isinstance(exc, errors.FormatError), exc
    assert seconds < MAX_CPU_SECONDS, f"{len(data)}-byte file: {seconds:.2f} s CPU ({exc})"
    # one more value than the ceiling is refused before any decoding
    header, payload, _ = __import__("inrcodec.format.container", fromlist=["_split"])._split(data)
    header["quant"]["tensors"]["latents"]["shape"][0] += entropy.max_decisions(stream_bytes)
    header["arch"]["grid_width"] *= 2
    header["arch"]["grid_width"] += 1
    header["quant"]["tensors"]["latents"]["shape"] = [header["arch"]["grid_height"] * header["arch"]["grid_width"]]
    with pytest.raises(errors.PayloadError, match="holds at most"):
        compact.decode_payload(header, payload)
    print(f"{len(data)}-byte file declaring {entropy.max_decisions(stream_bytes)} values: {seconds * 1000:.0f} ms CPU, "
          f"{type(exc).__name__ if exc else 'decoded'}")


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
    "image-grid-rgb--rc-declares-16m-latents-zero-stream.spdr",
    "image-grid-gray--rc-stream-cut-to-2-of-84-bytes.spdr",
    "image-grid-rgb--zheader-declares-1mib.spdr",
]


@pytest.mark.parametrize("name", HEAVIEST)
def test_refusal_in_a_real_process_is_fast_and_small(tmp_path, name):
    entry = next(e for e in ENTRIES if e["file"] == name)
    out = tmp_path / f"out{OUTPUT_EXT[entry['modality']]}"
    code, stdout, stderr, cpu, rss = measured_spdr("decode", str(CORPUS / name), "-o", str(out), cwd=tmp_path)
    assert code == 1 and stderr.startswith("Error: ") and len(stderr.strip().splitlines()) == 1, stderr
    assert cpu < MAX_PROCESS_CPU_SECONDS and rss < MAX_RSS_MB, f"{name}: {cpu:.2f} s CPU, {rss:.0f} MiB"
    assert "torch" not in stderr and not out.exists()
    print(f"{name}: refused in {cpu:.2f} s CPU, peak RSS {rss:.0f} MiB")


def test_oversized_file_refused_before_reading(tmp_path):
    """A sparse 600 MB file: refused by its size, never read into memory."""
    big = tmp_path / "big.spdr"
    with open(big, "wb") as f:
        f.truncate(600 * 2**20)
    code, _, stderr, cpu, rss = measured_spdr("decode", str(big), "-o", str(tmp_path / "o.png"), cwd=tmp_path)
    assert code == 1 and "larger than" in stderr and cpu < MAX_PROCESS_CPU_SECONDS and rss < 100, (stderr, cpu, rss)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.spdr"]


def test_refusals_import_no_torch(tmp_path):
    """Every container, payload and network refusal happens before torch is imported (so it is fast)."""
    files = {e["file"]: str(tmp_path / f"out{OUTPUT_EXT[e['modality']]}") for e in ENTRIES if e["stage"] != "output"}
    code = ("import sys; from click.testing import CliRunner; from inrcodec.cli import main\n"
            f"for name, out in {files!r}.items():\n"
            f"    r = CliRunner().invoke(main, ['decode', {str(CORPUS)!r} + '/' + name, '-o', out])\n"
            "    assert r.exit_code == 1 and r.stderr.startswith('Error: '), (name, r.stderr)\n"
            "print('torch' in sys.modules)")
    script = tmp_path / "refuse_all.py"  # a file, not -c: the corpus's names outgrow one argument's limit (128 KiB)
    script.write_text(code)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
