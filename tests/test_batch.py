"""`spdr encode FILE... -o folder/`: many inputs in one process, every output checked before any fit."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from click.testing import CliRunner
from PIL import Image

from inrcodec.cli import main
from tests.conftest import smooth_pixels


def _photos(folder: Path, names: list[str]) -> list[Path]:
    paths = []
    for k, name in enumerate(names):
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(smooth_pixels(10, 12, 3, seed=k).astype(np.uint8)).save(path)
        paths.append(path)
    return paths


def test_a_batch_writes_one_file_per_input_into_a_new_folder(tmp_path):
    inputs = _photos(tmp_path, ["a.png", "b.png"])
    out = tmp_path / "made" / "here"
    run = CliRunner().invoke(main, ["encode", *map(str, inputs), "--steps", "6", "-q", "-o", str(out)])
    assert run.exit_code == 0, run.output
    assert sorted(p.name for p in out.iterdir()) == ["a.spdr", "b.spdr"]
    assert "[2/2] 1 of 2 done in" in run.output and "encoded 2 of 2 inputs" in run.output


def test_a_single_input_into_a_folder(tmp_path):
    (photo,) = _photos(tmp_path, ["one.png"])
    (tmp_path / "dest").mkdir()
    run = CliRunner().invoke(main, ["encode", str(photo), "--steps", "6", "-q", "-o", str(tmp_path / "dest") + "/"])
    assert run.exit_code == 0, run.output
    assert (tmp_path / "dest" / "one.spdr").exists()


def test_two_inputs_that_would_write_one_file_are_refused_before_fitting(tmp_path):
    inputs = _photos(tmp_path, ["x/p.png", "y/p.png"])
    run = CliRunner().invoke(main, ["encode", *map(str, inputs), "--steps", "6", "-o", str(tmp_path / "out")])
    assert run.exit_code == 1 and "would both be written to" in run.output and "encoding" not in run.output


def test_existing_outputs_stop_the_batch_before_it_starts_unless_forced(tmp_path):
    inputs = _photos(tmp_path, ["a.png", "b.png"])
    out = tmp_path / "out"
    out.mkdir()
    (out / "b.spdr").write_bytes(b"keep me")
    run = CliRunner().invoke(main, ["encode", *map(str, inputs), "--steps", "6", "-o", str(out)])
    assert run.exit_code == 1 and "b.spdr exist" in run.output and "--force" in run.output
    assert (out / "b.spdr").read_bytes() == b"keep me" and not (out / "a.spdr").exists()
    forced = CliRunner().invoke(main, ["encode", *map(str, inputs), "--steps", "6", "-q", "--force", "-o", str(out)])
    assert forced.exit_code == 0 and (out / "b.spdr").read_bytes() != b"keep me"


def test_a_bad_input_is_reported_and_the_others_written(tmp_path):
    good = _photos(tmp_path, ["good.png"])[0]
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    run = CliRunner().invoke(main, ["encode", str(bad), str(good), "--steps", "6", "--json", "-o", str(tmp_path / "o")])
    assert run.exit_code == 1
    assert (tmp_path / "o" / "good.spdr").exists() and not (tmp_path / "o" / "bad.spdr").exists()
    report = json.loads([line for line in run.output.splitlines() if line.startswith("{")][0])
    assert [r["input"] for r in report["outputs"]] == [str(good)]
    assert report["failed"][0]["input"] == str(bad)
    assert "Error: 1 of 2 inputs failed (first: " in run.output
