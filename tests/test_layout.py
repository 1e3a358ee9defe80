"""The package's layout is its architecture: layers import only downwards, no cycles, format/ without torch."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "inrcodec"

# Lowest first. A module may import modules of a lower rank, or of its own subpackage (never a cycle).
LAYERS = [
    ("inrcodec.errors", "inrcodec._version"),
    ("inrcodec.files", "inrcodec.metrics"),
    ("inrcodec.format",),
    ("inrcodec.signal",),
    ("inrcodec.media",),
    ("inrcodec.nn",),
    ("inrcodec.train",),
    ("inrcodec.codec",),
    ("inrcodec.rate",),
    ("inrcodec.api", "inrcodec.data"),
    ("inrcodec",),  # the package's __init__: the public API
    ("inrcodec.bench", "inrcodec.view"),
    ("inrcodec.cli",),
    ("inrcodec.__main__",),
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """Every inrcodec module `path` imports, anywhere in the file (lazy imports inside functions count)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "inrcodec")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "inrcodec":
                continue
            for alias in node.names:  # `from . import container` imports the module inrcodec.format.container
                candidate = f"{target}.{alias.name}"
                found.add(candidate if candidate in MODULES else target)
    return found - {name}


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
GRAPH = {name: imports_of(path) for name, path in MODULES.items()}


def rank(module: str) -> tuple[int, str]:
    """(layer index, layer name) of the most specific layer prefix that contains `module`."""
    best = None
    for i, layer in enumerate(LAYERS):
        for prefix in layer:
            if module == prefix or module.startswith(prefix + "."):
                if best is None or len(prefix) > len(best[1]):
                    best = (i, prefix)
    assert best is not None, f"{module} is in no layer of tests/test_layout.py"
    return best


def test_every_module_is_in_a_layer_and_imports_point_down():
    upward = []
    for module, targets in GRAPH.items():
        here, here_layer = rank(module)
        for target in targets:
            there, there_layer = rank(target)
            if there > here or (there == here and there_layer != here_layer):
                upward.append(f"{module} -> {target}")
    assert not upward, "imports that point up or sideways:\n" + "\n".join(sorted(upward))


def test_no_import_cycles():
    """Tarjan's strongly connected components over every import, lazy ones included."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH.get(v, ()):
            if w not in GRAPH:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in GRAPH:
        if v not in index:
            visit(v)
    assert not cycles, f"import cycles: {cycles}"


def test_the_graph_sees_real_imports():
    """The parser must find the edges it is meant to police (a parser that finds nothing passes everything)."""
    assert "inrcodec.format.container" in GRAPH["inrcodec.format.limits"]
    assert "inrcodec.codec.runtime" in GRAPH["inrcodec.codec.image"]
    assert "inrcodec.rate.bpp" in GRAPH["inrcodec.api"]  # a lazy import inside a function
    assert rank("inrcodec.format.limits")[0] < rank("inrcodec.nn.registry")[0]


FRESH = """
import importlib, json, os, pkgutil, sys
env, mask = dict(os.environ), os.umask(0o022)
os.umask(mask)
import inrcodec, inrcodec.cli, inrcodec.format
for m in pkgutil.walk_packages(inrcodec.format.__path__, "inrcodec.format."):
    importlib.import_module(m.name)
import inrcodec.files, inrcodec.signal, inrcodec.metrics, inrcodec.codec.presets
after = os.umask(0o022)
os.umask(after)
print(json.dumps({"torch": "torch" in sys.modules, "env_changed": sorted(set(os.environ.items()) ^ set(env.items())),
                  "umask_changed": after != mask}))
"""


def test_format_and_cli_import_without_torch_and_without_side_effects():
    out = subprocess.run([sys.executable, "-c", FRESH], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    facts = json.loads(out.stdout)
    assert facts == {"torch": False, "env_changed": [], "umask_changed": False}


def dependency_order() -> list[str]:
    """Every module after the modules it imports (a topological order of GRAPH; no cycles, see above)."""
    order: list[str] = []
    seen: set[str] = set()

    def visit(v: str) -> None:
        if v in seen:
            return
        seen.add(v)
        for w in sorted(GRAPH[v] & set(GRAPH)):
            visit(w)
        order.append(v)

    for v in sorted(GRAPH):
        visit(v)
    return [m for m in order if not m.endswith("__main__")]


def test_every_module_imports_in_dependency_order_in_a_fresh_interpreter():
    """Lowest first, each module imports with only what it depends on already loaded."""
    order = dependency_order()
    assert order.index("inrcodec.format.header") < order.index("inrcodec.format.container") < order.index("inrcodec.api")
    code = "import importlib, sys\nfor m in sys.argv[1:]:\n    importlib.import_module(m)\n    print(m)"
    out = subprocess.run([sys.executable, "-c", code, *order], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr.strip().splitlines()[-3:]
    assert out.stdout.split() == order
