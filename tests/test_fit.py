"""The fitting loop (inrcodec.train.fit): best weights kept, NaN recovery, time limit, repeatability."""

from __future__ import annotations

import math
import time

import pytest
import torch

from inrcodec.errors import FitDivergedError
from inrcodec.nn.coords import grid_coords
from inrcodec.nn.registry import build_model
from inrcodec.train.fit import FitOptions, fit, full_loss

ARCH = {"activation": "spder", "damping": "sqrt", "in_features": 2, "out_features": 1, "width": 16, "depth": 1,
        "omega0": 30.0, "first_omega0": 30.0}


def problem(h: int = 12, w: int = 16, seed: int = 0):
    """A model and a smooth target on an h x w grid."""
    torch.manual_seed(seed)
    coords = grid_coords((h, w))
    values = (torch.sin(3 * coords[:, :1]) * torch.cos(2 * coords[:, 1:])).float()
    return build_model(ARCH), coords, values


def params_finite(model) -> bool:
    return all(torch.isfinite(p).all() for p in model.parameters())


def test_loss_decreases_and_model_holds_the_reported_loss():
    model, coords, values = problem()
    start = full_loss(model, coords, values)
    res = fit(model, coords, values, FitOptions(steps=60, lr=1e-3))
    assert res.steps == 60 and res.best_loss < 0.5 * start
    assert full_loss(model, coords, values) == pytest.approx(res.best_loss, rel=1e-5)


def test_keeps_the_best_weights_after_a_bad_step():
    model, coords, values = problem()
    seen: list[float] = []
    orig_forward = model.forward

    def forward(x):
        y = orig_forward(x)
        seen.append(float(torch.mean((y.detach() - values) ** 2)))
        return y

    model.forward = forward
    # lr 0.5 on a SPDER: a few useful steps, then the loss jumps around; no recovery is triggered
    # unless the loss grows a thousandfold, so the best checkpoint is what keeps the result good
    res = fit(model, coords, values, FitOptions(steps=40, lr=0.5, lr_final=1.0))
    assert max(seen) > 2 * min(seen), "the bad learning rate should make the loss jump"
    assert res.best_loss == pytest.approx(min(seen), rel=1e-5)
    model.forward = orig_forward
    assert full_loss(model, coords, values) == pytest.approx(min(seen), rel=1e-5)


def test_recovers_from_nan_weights():
    model, coords, values = problem()
    calls = {"n": 0}
    orig_forward = model.forward

    def forward(x):
        calls["n"] += 1
        if calls["n"] in (15, 16, 17):  # a blown-up update: every weight becomes NaN
            with torch.no_grad():
                for p in model.parameters():
                    p.fill_(math.nan)
        return orig_forward(x)

    model.forward = forward
    res = fit(model, coords, values, FitOptions(steps=40, lr=1e-3))
    model.forward = orig_forward
    assert res.recoveries >= 1
    assert math.isfinite(res.best_loss) and params_finite(model)
    assert full_loss(model, coords, values) == pytest.approx(res.best_loss, rel=1e-5)


def test_nan_from_the_start_raises():
    model, coords, values = problem()
    values = torch.full_like(values, math.nan)
    with pytest.raises(FitDivergedError):
        fit(model, coords, values, FitOptions(steps=10, lr=1e-3))


def test_persistent_nan_never_returns_nan_weights():
    """Every step after the fifth is NaN: the fit keeps restoring the weights of its best finite step and returns them
    (measured: it returns, after several recoveries; NaN from the very first step is the case that raises)."""
    model, coords, values = problem()
    start = full_loss(model, coords, values)
    calls = {"n": 0}
    orig_forward = model.forward

    def forward(x):
        calls["n"] += 1
        y = orig_forward(x)
        return y * math.nan if calls["n"] > 5 else y  # every step after the fifth is NaN

    model.forward = forward
    res = fit(model, coords, values, FitOptions(steps=50, lr=1e-3))
    model.forward = orig_forward
    assert params_finite(model)
    assert res.recoveries >= 2 and math.isfinite(res.best_loss) and res.best_loss < start
    assert full_loss(model, coords, values) == pytest.approx(res.best_loss, rel=1e-5)


def test_time_limit_is_respected(monkeypatch):
    """A fake clock that advances 0.125 s per forward pass: a 0.5 s limit allows exactly 4 steps of the 50 asked for."""
    clock = {"now": 1000.0}
    monkeypatch.setattr(time, "perf_counter", lambda: clock["now"])  # pytest keeps its own reference to the real one

    def ticking_problem():
        model, coords, values = problem(32, 32)
        orig_forward = model.forward

        def forward(x):
            clock["now"] += 0.125
            return orig_forward(x)

        model.forward = forward
        return model, coords, values

    model, coords, values = ticking_problem()
    res = fit(model, coords, values, FitOptions(steps=50, lr=1e-3, time_limit=0.5))
    assert res.steps == 4 and res.seconds >= 0.5
    assert full_loss(model, coords, values) == pytest.approx(res.best_loss, rel=1e-5)
    assert fit(*ticking_problem(), FitOptions(steps=50, lr=1e-3)).steps == 50  # 6.25 s on the clock, but no limit
    assert fit(*ticking_problem(), FitOptions(steps=50, lr=1e-3, time_limit=10.0)).steps == 50


@pytest.mark.parametrize("batch_size", [None, 50])
def test_same_seed_gives_identical_weights(batch_size):
    states = []
    for _ in range(2):
        model, coords, values = problem(seed=3)
        fit(model, coords, values, FitOptions(steps=15, lr=1e-3, batch_size=batch_size, eval_every=5, seed=7))
        states.append({k: v.clone() for k, v in model.state_dict().items()})
    for k in states[0]:
        assert torch.equal(states[0][k], states[1][k]), k


def test_minibatches_are_seeded():
    results = []
    for seed in (1, 2):
        model, coords, values = problem(seed=3)
        fit(model, coords, values, FitOptions(steps=10, lr=1e-3, batch_size=40, seed=seed))
        results.append(model.net[0].weight.detach().clone())
    assert not torch.equal(results[0], results[1])


def test_progress_callback_reports_steps():
    model, coords, values = problem()
    calls = []
    fit(model, coords, values, FitOptions(steps=20, lr=1e-3, report_every=5), progress=lambda *a: calls.append(a))
    assert [c[0] for c in calls] == [5, 10, 15, 20]
    assert all(c[1] == 20 and math.isfinite(c[2]) for c in calls)


def test_nan_from_the_first_step_raises_and_leaves_the_initial_weights():
    """No finite loss at all: FitDivergedError, and the caller's model holds its (finite) initial weights, not NaN."""
    model, coords, values = problem()
    initial = {k: v.clone() for k, v in model.state_dict().items()}
    orig_forward = model.forward
    model.forward = lambda x: orig_forward(x) * math.nan
    with pytest.raises(FitDivergedError):
        fit(model, coords, values, FitOptions(steps=50, lr=1e-3))
    model.forward = orig_forward
    assert params_finite(model)
    assert all(torch.equal(initial[k], v) for k, v in model.state_dict().items())
