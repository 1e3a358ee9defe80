"""Networks and their numbers: the SPDER activation, coordinate MLPs, latent and hash grids, one registry,
coordinates, the quantizer, and the device rule. Imports torch; nothing here reads or writes files.

Modules, lowest first: activations, coords, device, quantize -> mlp, latentgrid, hashgrid -> registry.
"""
