"""sedjax.io.sample_sets: named sets of draws in one HDF5 file, written atomically, read without JAX."""

import numpy as np
import pytest

from sedjax.io.sample_sets import read_sample_sets, write_sample_sets


def test_roundtrip_keeps_sets_of_different_lengths_and_meta(tmp_path):
    sets = {"nuts": {"samples": {"a": np.arange(4.0)}, "derived": {"m": np.linspace(9, 10, 4)}},
            "bagpipes": {"samples": {"a": [1.0, 2.0]}, "derived": {}}}
    path = tmp_path / "d" / "s.h5"
    write_sample_sets(path, sets, {"truth": {"a": np.float64(1.5), "b": float("nan")}, "reference": "nuts"})
    back, meta = read_sample_sets(path)
    assert set(back) == {"nuts", "bagpipes"} and back["bagpipes"]["derived"] == {}
    np.testing.assert_array_equal(back["nuts"]["samples"]["a"], np.arange(4.0))
    np.testing.assert_array_equal(back["bagpipes"]["samples"]["a"], [1.0, 2.0])
    assert meta == {"truth": {"a": 1.5, "b": None}, "reference": "nuts"}  # NaN -> null (strict JSON)
    assert [p.name for p in path.parent.iterdir()] == ["s.h5"]  # no temporary file left


def test_draws_must_be_one_dimensional_and_nothing_is_left_behind(tmp_path):
    with pytest.raises(ValueError, match="nuts/samples/a"):
        write_sample_sets(tmp_path / "s.h5", {"nuts": {"samples": {"a": np.zeros((2, 3))}}})
    assert list(tmp_path.iterdir()) == []
