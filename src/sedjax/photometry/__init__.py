"""Filters and band integration.

``filters`` (sedpy filter curves by short name), ``integration`` (the rest-frame
integration grid and photon-counting band weights in AB maggies).
"""
