"""`spdr bench TASK`: reproduce the SPDER paper's tables on real media, with honest metrics.

A task is a function `run(opts: BenchOptions) -> TaskOutput` registered under a name with
`@register("name")` in any module of this package whose name does not start with "_"; modules are
discovered on first use, so adding a task (e.g. "rd") means adding one module and nothing else.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable

from ._archs import parse_archs
from ._core import BenchOptions, TaskOutput, parse_qualities, parse_steps

__all__ = ["BenchOptions", "TaskOutput", "get_task", "parse_archs", "parse_qualities", "parse_steps", "register", "run_and_write",
           "task_names"]

TaskFn = Callable[[BenchOptions], TaskOutput]
TASKS: dict[str, TaskFn] = {}
_DISCOVERED = False


def register(name: str) -> Callable[[TaskFn], TaskFn]:
    """Decorator: make `fn` the task `name` (one name, one function)."""

    def wrap(fn: TaskFn) -> TaskFn:
        if name in TASKS and TASKS[name] is not fn:
            raise ValueError(f"bench task {name!r} registered twice")
        TASKS[name] = fn
        return fn

    return wrap


def _discover() -> None:
    global _DISCOVERED
    if not _DISCOVERED:
        for info in pkgutil.iter_modules(__path__):
            if not info.name.startswith("_"):
                importlib.import_module(f"{__name__}.{info.name}")
        _DISCOVERED = True


def task_names() -> list[str]:
    """Every registered task, sorted."""
    _discover()
    return sorted(TASKS)


def get_task(name: str) -> TaskFn:
    """The task function for `name`; ValueError naming the choices otherwise."""
    _discover()
    if name not in TASKS:
        raise ValueError(f"unknown bench task {name!r}; choose from {', '.join(sorted(TASKS))}")
    return TASKS[name]


def run_and_write(opts: BenchOptions, out_dir: str, force: bool = False, command: str | None = None) -> list[dict]:
    """Run task `opts.task` and write its JSON, Markdown and PNGs into `out_dir`; returns the rows."""
    from ._report import check_outputs, write_outputs

    fn = get_task(opts.task)
    check_outputs(out_dir, opts.task, force)
    output = fn(opts)
    return write_outputs(out_dir, opts, output, force=force, command=command)
