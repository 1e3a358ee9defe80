"""Rate control: `spdr encode --bpp X` (plan -> rate-distortion fit -> refine or trim -> measured file).

Modules, lowest first: plan (budget, network, options), trim (fit a file to its budget), bpp (the encoder).
"""
