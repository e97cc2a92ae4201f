"""The summary's preamble (sedjax.plotting.report.summary_preamble): provenance and the run."""

from sedjax.plotting.report import summary_preamble

RUN = {"ssp": "bc03_miles_kroupa", "nebular": False, "sfh": "dpl", "dust_law": "powerlaw",
       "bands": ["sdss_u", "sdss_g"], "n_galaxies": 100, "backends": ["map", "nuts"], "mode": "fast"}


def test_preamble_words_the_run():
    first, second = summary_preamble(RUN, "2026-01-02T03:04:05Z", "0123456789abcdef")
    assert first == (
        "Generated 2026-01-02T03:04:05Z from commit 0123456789. SSP grid: `bc03_miles_kroupa`; model: SFH `dpl`, "
        "dust `powerlaw`, bands sdss_u, sdss_g; mock catalogue of 100 galaxies; backends map, nuts; "
        "photometry mode `fast` in the likelihood."
    )
    assert second.startswith("The Snakemake report (`snakemake --report results/report.html`)")


def test_nebular_comes_from_the_config_not_the_file_name():
    nebular = summary_preamble({**RUN, "ssp": "bc03_miles_kroupa_wNE_logU-3.0", "nebular": True}, "t")[0]
    assert nebular.startswith("Generated t. SSP grid: `bc03_miles_kroupa_wNE_logU-3.0` (with nebular emission);")
    # a grid file name alone says nothing: the flag decides
    assert "nebular" not in summary_preamble({**RUN, "ssp": "my_wNE_grid"}, "t")[0]


def test_build_sections_leaves_out_empty_sections(tmp_path):
    """A run with no benchmarks, batch fits or recovery (e.g. a real catalogue) prints no bare headings."""
    from sedjax.plotting.report import build_sections

    fig = tmp_path / "figures" / "sed_0.png"
    sections = build_sections(tmp_path / "summary.md", figures=[str(fig)])
    titles = [s["title"] for s in sections]
    assert "Batch fits and calibration" not in titles and "Parameter recovery" not in titles
    assert any("figures/sed_0.png" == p for s in sections for _, p in s["figures"])
