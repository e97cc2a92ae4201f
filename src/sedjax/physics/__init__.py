"""Physics kernels: pure, jit/grad/vmap-safe functions with units in their names.

``constants`` (physical constants, one definition each), ``cosmology`` (flat ΛCDM ages and
distances), ``sfh`` (star-formation histories and their mass per interval), ``dust``
(Charlot & Fall 2000 / Calzetti 2000), ``igm`` (Madau 1995), ``ssp_weights`` (SFH mass per
SSP age bin and metallicity weights).
"""
