"""merge_chunks / throughput_record (rule merge_batch's body) on hand-made chunk files."""

import numpy as np
import pandas as pd
import pytest

from sedjax.analysis.calibration import PERCENTILES, summary_table
from sedjax.analysis.merge import THROUGHPUT_NOTES, merge_chunks, throughput_record
from sedjax.fitting.batch_result import BatchResult


def _chunk(index, ids, rng, n_samples=50):
    n = len(ids)
    status = np.array(["ok"] * n, dtype=object)
    status[-1] = "failed"
    return BatchResult(
        backend="vi",
        ids=np.asarray(ids, np.int64),
        redshift=np.full(n, 0.1),
        samples={"a": rng.normal(size=(n, n_samples)), "b": rng.uniform(size=(n, n_samples))},
        derived={"c": rng.normal(size=(n, n_samples))},
        diagnostics={"elbo": rng.normal(size=n), "elbo_trace": rng.normal(size=(n, 4))},
        status=status,
        reason=np.array(["" if s == "ok" else "non-finite ELBO" for s in status], dtype=object),
        run_s=np.full(n, 0.5 / n),
        chunk=np.zeros(n, np.int64),
        compile_s=2.0 + index,
        truth={"a": rng.normal(size=n)},
        chunks=[{"index": 0, "n_galaxies": n, "compile_s": 2.0 + index, "run_s": 0.5, "convert_s": 0.1,
                 "wall_s": 3.0 + index, "gal_per_s": n / 0.5}],
        meta={"batch": {"chunk_size": 3}, "options": {"n_steps": 10}, "runtime": {"device": "cpu"}},
    )


def _old_record(res, backend):
    """merge_batch.py's dict before the body moved into sedjax (provenance left out)."""
    tp = res.throughput()
    chunk_compile = [c["compile_s"] for c in res.chunks]
    return {
        "backend": backend, "n_galaxies": tp["n_galaxies"], "n_failed": res.n_failed, "n_chunks": tp["n_chunks"],
        "chunk_size": res.meta.get("batch", {}).get("chunk_size"), "gal_per_s": tp["gal_per_s"],
        "gal_per_s_with_convert": tp["gal_per_s_with_convert"], "gal_per_s_wall": tp["gal_per_s_wall"],
        "run_s": tp["run_s"], "convert_s": tp["convert_s"], "wall_s": tp["wall_s"],
        "compile_s": float(np.sum(chunk_compile)),
        "compile_s_first_chunk": float(chunk_compile[0]) if chunk_compile else None,
        "compile_s_per_chunk": chunk_compile, "chunks": res.chunks, "options": res.meta.get("options"),
        "device": (res.meta.get("runtime") or {}).get("device"),
        "notes": (
            "gal_per_s = galaxies / sum of the compiled chunk runs (compile excluded); each chunk is its own "
            "job and compiles (or loads from the persistent compilation cache) once"
        ),
    }


def test_merge_chunks(tmp_path):
    rng = np.random.default_rng(0)
    parts = [_chunk(0, [0, 1, 2], rng), _chunk(1, [3, 4], rng)]
    paths = []
    for j, p in enumerate(parts):
        paths.append(tmp_path / f"chunk_{j}.h5")
        p.save_hdf5(paths[-1])
    cat = pd.DataFrame({"id": np.arange(6), "redshift": 0.1, "true_a": rng.normal(size=6), "true_c": rng.normal(size=6),
                        "true_flux_sdss_g": rng.uniform(size=6)})
    cat.to_parquet(tmp_path / "catalog.parquet")

    table, tp = merge_chunks(paths, tmp_path / "catalog.parquet", "vi", provenance={"host": "x"})
    joined = BatchResult.concatenate([BatchResult.load_hdf5(p) for p in paths])
    assert tp == {**_old_record(joined, "vi"), "provenance": {"host": "x"}}
    assert list(tp)[-1] == "provenance" and tp["notes"] == THROUGHPUT_NOTES
    assert tp["n_galaxies"] == 5 and tp["n_failed"] == 2 and tp["n_chunks"] == 2
    assert tp["compile_s_per_chunk"] == [2.0, 3.0] and [c["index"] for c in tp["chunks"]] == [0, 1]
    assert tp["gal_per_s"] == pytest.approx(5 / 1.0)
    assert "provenance" not in throughput_record(joined, "vi")

    pd.testing.assert_frame_equal(table, summary_table(joined, truths=cat))
    assert table["id"].tolist() == [0, 1, 2, 3, 4] and table["chunk"].tolist() == [0, 0, 0, 1, 1]
    assert table["compile_s"].tolist() == [2.0, 2.0, 2.0, 3.0, 3.0]
    # truths come from the catalogue (joined on id), fluxes included as columns
    np.testing.assert_array_equal(table["true_a"], cat["true_a"][:5])
    assert "true_flux_sdss_g" in table and "diag_elbo" in table and "diag_elbo_trace" not in table
    for name in ("a", "b", "c"):
        for q in list(PERCENTILES) + ["rank"]:
            assert f"{name}_{q}" in table
    assert table["b_rank"].isna().all() and table["a_rank"].between(0, 1).all()
    a = np.concatenate([p.samples["a"] for p in parts])
    np.testing.assert_allclose(table["a_median"], np.median(a, axis=1))
