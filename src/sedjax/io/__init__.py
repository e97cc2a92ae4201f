"""Files and processes: atomic writes, JSON, provenance, the JAX runtime of a job.

``atomic`` (write-then-rename), ``jsonio`` (JSON conversion and writing), ``provenance``
(sha256, package versions, commit, CPU), ``runtime`` (JAX platform, worker pool and
compilation cache per job; logging), ``device`` (what devices a job sees), ``cliconfig``
(typed ``--config`` overrides), ``sample_sets`` (named sets of posterior draws in one HDF5
file).
"""
