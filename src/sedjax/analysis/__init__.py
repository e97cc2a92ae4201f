"""What is computed from fits: calibration, tables, predictive checks, gradient fields.

``calibration`` (percentiles, truth ranks, coverage and SBC statistics), ``merge`` (chunk
files to one table and a throughput record), ``summary`` (single-fit table), ``ppc``
(posterior-predictive spectra and photometry), ``residuals`` (a catalogue's predictive
photometry and per-band residuals), ``gradfield`` (log-likelihood and its
gradient on a 2-D slice).
"""
