"""sedjax.bench.sampler helpers: the per-backend options of the sampler benchmark."""

from sedjax.bench.sampler import sampler_options


def test_sampler_options_override_the_fit_options():
    fit_opts = {"nuts": {"n_chains": 4, "n_warmup": 1000}, "vi": {"n_steps": 10}, "map": None}
    over = {"nuts": {"n_chains": 2}, "ns": {"n_live": 100}}
    got = sampler_options(["nuts", "vi", "map", "ns"], fit_opts, over)
    assert got == {"nuts": {"n_chains": 2, "n_warmup": 1000}, "vi": {"n_steps": 10}, "map": {}, "ns": {"n_live": 100}}
    assert sampler_options(["vi"], fit_opts, None) == {"vi": {"n_steps": 10}}
