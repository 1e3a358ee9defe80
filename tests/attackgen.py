"""The attack-corpus generator (tests/data/make_attacks.py) loaded as a module, for the tests that use it."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

DATA = Path(__file__).parent / "data"


def attack_generator():
    """tests/data/make_attacks.py as a module (registered so its dataclasses can find it)."""
    spec = importlib.util.spec_from_file_location("make_attacks", DATA / "make_attacks.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_attacks"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module
