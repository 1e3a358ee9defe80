"""Several processes, one encode: the parts of a file (segments) or the inputs of a batch shared out over ranks.

Why torch.distributed under torchrun and nothing of our own: torchrun already starts one process a GPU on
one machine or many (its rendezvous), sets RANK / WORLD_SIZE / LOCAL_RANK, and stops every worker when one
dies. spdr adds only which rank fits which parts (`share`: contiguous blocks, so a rank reads its stretch of a
file in order) and one collective at the end (`gather`: every rank's parts, or its error, to every rank),
over the gloo backend, which carries Python objects between CPU and GPU ranks alike. Rank 0 writes the file.

Each part is fitted from its own seed (config.seed + its index) whatever rank fits it, so the file equals a
single-process encode's byte for byte on the same kind of device with the same number of threads per
process (a CPU fit's float sums depend on how many threads split them: torchrun gives each rank
OMP_NUM_THREADS=1 unless told otherwise, so compare with `spdr encode --threads 1`). Under `--time`
the fits stop by the clock, and no two runs are byte-identical.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from ..errors import SpdrError

T = TypeVar("T")
JOIN_TIMEOUT_S = 1800  # how long a collective waits for a slow rank (a rank's whole share of fitting comes before it)


class RankFailed(SpdrError):
    """Another rank (or this one) failed: the whole run fails, and no file is written.

    origin: the rank whose error this is; the CLI prints the message on that rank only, so a failed run
    shows one error line however many ranks it had."""

    def __init__(self, message: str, origin: int):
        super().__init__(message)
        self.origin = origin


@dataclass(frozen=True)
class World:
    """This process's place among the encode's processes: rank of size (1 when run alone)."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def alone(self) -> bool:
        return self.size == 1

    @property
    def writes(self) -> bool:
        """Whether this process writes the output (rank 0)."""
        return self.rank == 0


SOLO = World()
_ALONE = contextvars.ContextVar("spdr_alone", default=False)  # set by alone(): this encode is one rank's own


@contextlib.contextmanager
def alone() -> Iterator[None]:
    """Within: current() is SOLO, so an encode is this process's alone (a batch's inputs are shared out over the
    ranks, and each input is then fitted whole by its rank)."""
    token = _ALONE.set(True)
    try:
        yield
    finally:
        _ALONE.reset(token)


def current() -> World:
    """The initialised process group's world (torch.distributed), else SOLO (and SOLO inside alone())."""
    import torch.distributed as dist

    if _ALONE.get() or not (dist.is_available() and dist.is_initialized()):
        return SOLO
    return World(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", dist.get_rank())))


def launched_ranks() -> int:
    """WORLD_SIZE as torchrun set it (1 when not launched by torchrun)."""
    try:
        return max(1, int(os.environ.get("WORLD_SIZE", "1")))
    except ValueError:
        raise SpdrError(f"WORLD_SIZE={os.environ['WORLD_SIZE']!r} is not a number of processes") from None


def join_from_env() -> World:
    """Under torchrun (WORLD_SIZE > 1): join its process group over gloo, once; alone: SOLO, nothing started."""
    if launched_ranks() == 1:
        return SOLO
    import torch.distributed as dist

    if not dist.is_initialized():
        try:
            dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=JOIN_TIMEOUT_S))
        except (RuntimeError, ValueError, KeyError) as e:
            raise SpdrError(f"cannot join the torchrun process group: {str(e).splitlines()[0]}") from None
    return current()


def share(count: int, world: World) -> range:
    """The parts this rank fits: a contiguous block of 0..count-1, the blocks as equal as integers allow."""
    return range(count * world.rank // world.size, count * (world.rank + 1) // world.size)


def rank_device(name: str, world: World) -> str:
    """The device a rank fits on: cuda:LOCAL_RANK (modulo the GPUs there are) for cuda or auto with a GPU."""
    if world.alone or name not in ("auto", "cuda"):
        return name
    import torch

    if not torch.cuda.is_available():
        return name
    return f"cuda:{world.local_rank % torch.cuda.device_count()}"


def run_share(work: Callable[[], T]) -> tuple[T | None, str | None]:
    """work()'s value, or its error as one line (the error is then the run's, raised by `gather` on every rank)."""
    try:
        return work(), None
    except (SpdrError, ValueError, OSError, MemoryError, RuntimeError) as e:
        return None, (str(e).splitlines()[0] if str(e) else type(e).__name__)


def gather(value: Any, error: str | None, world: World) -> list[Any]:
    """Every rank's value, in rank order, on every rank; if any rank failed, RankFailed (the lowest failed rank's
    error) on every rank instead. Alone: [value], or the error."""
    if world.alone:
        if error is not None:
            raise RankFailed(error, 0)
        return [value]
    import torch.distributed as dist

    out: list[Any] = [None] * world.size
    dist.all_gather_object(out, (value, error))
    failed = [(r, e) for r, (_, e) in enumerate(out) if e is not None]
    if failed:
        rank, message = failed[0]
        raise RankFailed(f"rank {rank} of {world.size}: {message}", rank)
    return [v for v, _ in out]


def merge_shares(shares: Sequence[Sequence[T]]) -> list[T]:
    """The ranks' lists of parts (each in order, blocks in rank order) as one list in part order."""
    return [item for share_ in shares for item in share_]
