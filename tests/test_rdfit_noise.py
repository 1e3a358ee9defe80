"""The noisy phase of train/rdfit.fit_rd: what the synthesis is fed at the first step under each quantizer option
(uniform noise after soft rounding, C3's second soft rounding, Gaussian noise with an annealed std), and the share of
steps it lasts."""

from __future__ import annotations

import pytest
import torch

from inrcodec.nn.coords import grid_coords
from inrcodec.nn.latentgrid import LatentGridSPDER
from inrcodec.train.rdfit import RDFitOptions, fit_rd, soft_round


def _model() -> LatentGridSPDER:
    torch.manual_seed(0)
    arch = {"activation": "spder", "damping": "sqrt", "in_features": 2, "out_features": 3, "width": 8, "depth": 1,
            "omega0": 1.0, "first_omega0": 1.0, "grid_levels": 3, "grid_height": 12, "grid_width": 16, "arm_width": 4,
            "arm_depth": 1}
    model = LatentGridSPDER(arch)
    with torch.no_grad():
        model.latents.copy_(torch.randn_like(model.latents) * 3)  # off the integers, so rounding shows
    return model


def _fed(opts: RDFitOptions) -> tuple[list[torch.Tensor], torch.Tensor]:
    """The latents the synthesis saw at each step, and the latents before the first step."""
    model = _model()
    start = model.latents.detach().clone()
    seen = []
    forward = model.forward

    def spy(coords, latents=None, **kwargs):
        seen.append(latents.detach().clone())
        return forward(coords, latents, **kwargs)

    model.forward = spy
    values = torch.rand(12 * 16, 3) * 2 - 1
    fit_rd(model, grid_coords((12, 16)), values, opts)
    return seen, start


def _first_noise(opts: RDFitOptions, y: torch.Tensor) -> torch.Tensor:
    gen = torch.Generator().manual_seed(opts.seed)
    if opts.noise_std is None:
        return torch.rand(y.shape, generator=gen) - 0.5
    return torch.randn(y.shape, generator=gen) * opts.noise_std[0]


@pytest.mark.parametrize("double, std", [(False, None), (True, None), (False, (0.25, 0.1)), (True, (0.25, 0.1))])
def test_the_first_step_feeds_the_synthesis_what_the_options_say(double, std):
    opts = RDFitOptions(steps=4, noise_fraction=0.5, double_soft=double, noise_std=std, temperature=(0.7, 0.1), fused=False)
    seen, y = _fed(opts)
    expected = soft_round(y, opts.temperature[0]) + _first_noise(opts, y)
    if double:
        expected = soft_round(expected, opts.temperature[0])
    torch.testing.assert_close(seen[0], expected, rtol=0, atol=1e-6)


def test_a_second_soft_rounding_pulls_the_noisy_latents_towards_integers():
    plain, _ = _fed(RDFitOptions(steps=2, noise_fraction=1.0, fused=False))
    double, _ = _fed(RDFitOptions(steps=2, noise_fraction=1.0, double_soft=True, fused=False))
    off = [float((x - torch.round(x)).abs().mean()) for x in (plain[-1], double[-1])]
    assert off[1] < 0.5 * off[0]


def test_the_gaussian_noise_anneals_to_its_last_std():
    seen, y = _fed(RDFitOptions(steps=11, noise_fraction=1.0, soft=False, noise_std=(0.4, 0.05), lr_latents=0.0,
                                fused=False))  # the latents stay put (lr 0): what the synthesis sees minus them is the noise
    first, last = float((seen[0] - y).std()), float((seen[-1] - y).std())
    assert first == pytest.approx(0.4, rel=0.1) and last == pytest.approx(0.05, rel=0.1)


def test_the_temperature_anneals_geometrically_from_its_first_to_its_last_value():
    opts = RDFitOptions(steps=5, noise_fraction=1.0, temperature=(0.8, 0.05), lr_latents=0.0, fused=False)
    seen, y = _fed(opts)  # the latents stay put (lr 0), so each step differs only in its noise and temperature
    gen = torch.Generator().manual_seed(opts.seed)
    for k, t in enumerate([0.8 * (0.05 / 0.8) ** (k / 4) for k in range(5)]):
        expected = soft_round(y, t) + torch.rand(y.shape, generator=gen) - 0.5
        torch.testing.assert_close(seen[k], expected, rtol=0, atol=1e-6)


def test_after_the_noisy_share_the_synthesis_sees_integers():
    seen, _ = _fed(RDFitOptions(steps=10, noise_fraction=0.7, fused=False))
    assert [bool(torch.equal(x, torch.round(x))) for x in seen] == [False] * 7 + [True] * 3
