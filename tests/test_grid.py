"""Coordinates (inrcodec.nn.coords): pixel centres, non-square grids, chunks, denser grids between samples."""

from __future__ import annotations

import pytest
import torch

from inrcodec.nn.coords import axis_positions, grid_coords, iter_chunks


def test_axis_positions_are_pixel_centres():
    torch.testing.assert_close(axis_positions(4), torch.tensor([-0.75, -0.25, 0.25, 0.75]))
    torch.testing.assert_close(axis_positions(1), torch.tensor([0.0]))
    torch.testing.assert_close(axis_positions(2, scale=100.0), torch.tensor([-50.0, 50.0]))


def test_non_square_grid_is_row_major_height_then_width():
    c = grid_coords((2, 3))
    assert c.shape == (6, 2)
    ys, xs = axis_positions(2), axis_positions(3)
    expected = torch.stack(torch.meshgrid(ys, xs, indexing="ij"), dim=-1).reshape(-1, 2)
    torch.testing.assert_close(c, expected)
    assert c[1].tolist() == pytest.approx([-0.5, 0.0])  # second sample: same row, next column


def test_scales_apply_per_axis():
    c = grid_coords((3, 2), scales=(2.0, 10.0))
    torch.testing.assert_close(c[:, 0].unique(), axis_positions(3, 2.0))
    torch.testing.assert_close(c[:, 1].unique(), axis_positions(2, 10.0))


@pytest.mark.parametrize("shape", [(7, 5), (1, 13), (4, 3, 6)])
def test_chunks_equal_slices_of_the_full_grid(shape):
    full = grid_coords(shape)
    total = full.shape[0]
    parts = [grid_coords(shape, start=s, stop=e) for s, e in iter_chunks(total, 4)]
    torch.testing.assert_close(torch.cat(parts), full)
    assert [e - s for s, e in iter_chunks(10, 4)] == [4, 4, 2]


@pytest.mark.parametrize("n", [1, 5, 8, 13])
def test_double_density_pairs_up_around_native_samples(n):
    native = axis_positions(n, dtype=torch.float64)
    fine = axis_positions(2 * n, dtype=torch.float64).reshape(n, 2)
    torch.testing.assert_close(fine.mean(dim=1), native)
    assert (fine[:, 0] < native).all() and (fine[:, 1] > native).all()


def test_double_density_grid_2d():
    h, w = 3, 5
    native = grid_coords((h, w)).reshape(h, w, 2)
    fine = grid_coords((2 * h, 2 * w)).reshape(h, 2, w, 2, 2)
    torch.testing.assert_close(fine.mean(dim=(1, 3)), native, atol=1e-7, rtol=0)
