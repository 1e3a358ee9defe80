"""Bad inputs and outputs for `spdr encode` and `spdr decode`: exit 1, one clear line, nothing written."""

from __future__ import annotations

import io
import os
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from inrcodec.cli import main

GOLDEN = Path(__file__).parent / "data" / "golden_v1.spdr"


def refused(args: list, folder: Path, *, contains: str) -> str:
    """Run spdr ARGS; expect exit 1, one 'Error:' line containing `contains`, and `folder` unchanged."""
    before = sorted(p.name for p in folder.iterdir())
    r = CliRunner().invoke(main, [str(a) for a in args])
    lines = r.stderr.strip().splitlines()
    assert r.exit_code == 1, (r.exit_code, r.stdout, r.stderr, r.exception)
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "Traceback" not in r.stderr, r.stderr
    assert contains.lower() in lines[0].lower(), lines[0]
    assert sorted(p.name for p in folder.iterdir()) == before, "a file was left behind"
    return lines[0]


def png_bytes(width: int, height: int) -> bytes:
    """A PNG with exactly these IHDR dimensions (valid chunk CRCs), grey 8-bit, no pixel rows."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


def real_png() -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.arange(64 * 48, dtype=np.uint32).reshape(48, 64).astype(np.uint8)).save(buf, "PNG")
    return buf.getvalue()


BAD_INPUTS = {
    "zero-bytes.png": (b"", "empty"),
    "text.png": (b"just some text, renamed\n" * 20, "not a readable"),
    "truncated.png": (real_png()[:-40], "truncated"),
    "header-only.png": (real_png()[:40], "not a readable"),
    "width-zero.png": (png_bytes(0, 4), "not a readable"),
    "height-zero.png": (png_bytes(4, 0), "not a readable"),
    "archive.mp4": (None, "not a readable"),
    "photo.spdr": (GOLDEN.read_bytes(), "not a readable"),
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_encode_refuses_bad_input(tmp_path, name):
    data, text = BAD_INPUTS[name]
    if data is None:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("movie.txt", "not a movie" * 100)
        data = buf.getvalue()
    src = tmp_path / name
    src.write_bytes(data)
    refused(["encode", src, "-o", tmp_path / "out.spdr", "--steps", "1"], tmp_path, contains=text)


def test_encode_missing_file_and_directory(tmp_path):
    refused(["encode", tmp_path / "missing.png", "--steps", "1"], tmp_path, contains="no such file")
    (tmp_path / "folder.png").mkdir()
    refused(["encode", tmp_path / "folder.png", "--steps", "1", "-o", tmp_path / "o.spdr"], tmp_path, contains="directory")


def test_decode_missing_directory_empty_and_media_inputs(tmp_path):
    out = tmp_path / "o.png"
    refused(["decode", tmp_path / "missing.spdr", "-o", out], tmp_path, contains="no such file")
    refused(["decode", tmp_path, "-o", out], tmp_path, contains="folder")
    (tmp_path / "empty.spdr").write_bytes(b"")
    refused(["decode", tmp_path / "empty.spdr", "-o", out], tmp_path, contains="truncated")
    (tmp_path / "photo.png").write_bytes(real_png())
    refused(["decode", tmp_path / "photo.png", "-o", out], tmp_path, contains="not a .spdr file")


@pytest.mark.parametrize("kind", ["folder-is-a-file", "missing-folder", "output-is-a-folder", "unsupported-extension"])
def test_decode_unusable_output(tmp_path, kind):
    src = tmp_path / "g.spdr"
    src.write_bytes(GOLDEN.read_bytes())
    (tmp_path / "file.txt").write_text("x")
    (tmp_path / "dir.png").mkdir()
    target, text = {"folder-is-a-file": (tmp_path / "file.txt" / "o.png", "does not exist"),
                    "missing-folder": (tmp_path / "nope" / "o.png", "does not exist"),
                    "output-is-a-folder": (tmp_path / "dir.png", "exists"),
                    "unsupported-extension": (tmp_path / "o.xyz", "unsupported")}[kind]
    refused(["decode", src, "-o", target], tmp_path, contains=text)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes into read-only folders; needs POSIX non-root")
def test_unwritable_output_folder(tmp_path, grey_png):
    src = tmp_path / "g.spdr"
    src.write_bytes(GOLDEN.read_bytes())
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        refused(["decode", src, "-o", locked / "o.png"], locked, contains="not writable")
        refused(["encode", grey_png[0], "-o", locked / "o.spdr", "--steps", "1"], locked, contains="not writable")
    finally:
        locked.chmod(0o700)


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc (a folder nobody can create files in)")
def test_output_into_a_folder_nobody_can_write(tmp_path):
    """/proc refuses new files even to root: the failure surfaces as one line, and nothing is left behind."""
    src = tmp_path / "g.spdr"
    src.write_bytes(GOLDEN.read_bytes())
    refused(["decode", src, "-o", "/proc/spdr-test-output.png"], tmp_path, contains="proc")
    assert not Path("/proc/spdr-test-output.png").exists()


# --- audio and video (the loaders ship with spdr: these never skip) -------------------------------------

def flac_bytes(samples: int = 8000) -> bytes:
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, (0.3 * np.sin(np.arange(samples) / 5.0)).astype(np.float32), 8000, format="FLAC", subtype="PCM_16")
    return buf.getvalue()


def mp4_bytes(path: Path) -> bytes:
    import av

    with av.open(os.fspath(path), "w") as c:
        s = c.add_stream("mpeg4", rate=10)
        s.width, s.height, s.pix_fmt = 32, 32, "yuv420p"
        for i in range(10):
            for packet in s.encode(av.VideoFrame.from_ndarray(np.full((32, 32, 3), 20 * i, np.uint8), format="rgb24")):
                c.mux(packet)
        for packet in s.encode():
            c.mux(packet)
    return path.read_bytes()


@pytest.mark.parametrize("cut", ["half", "header"])
def test_truncated_flac(tmp_path, cut):
    data = flac_bytes()
    src = tmp_path / "clip.flac"
    src.write_bytes(data[: len(data) // 2] if cut == "half" else data[:60])
    refused(["encode", src, "-o", tmp_path / "o.spdr", "--steps", "1"], tmp_path, contains="clip.flac")


@pytest.mark.parametrize("ext", [".wav", ".flac"])
def test_zero_sample_audio(tmp_path, ext):
    import soundfile as sf

    src = tmp_path / f"silence{ext}"
    sf.write(src, np.zeros((0, 1), np.float32), 8000, subtype="PCM_16")
    refused(["encode", src, "-o", tmp_path / "o.spdr", "--steps", "1"], tmp_path, contains="silence")


@pytest.mark.parametrize("cut", [0.5, 0.05])
def test_truncated_mp4(tmp_path, cut):
    data = mp4_bytes(tmp_path / "full.mp4")
    (tmp_path / "full.mp4").unlink()
    src = tmp_path / "clip.mp4"
    src.write_bytes(data[: int(len(data) * cut)])
    refused(["encode", src, "-o", tmp_path / "o.spdr", "--steps", "1"], tmp_path, contains="clip.mp4")
