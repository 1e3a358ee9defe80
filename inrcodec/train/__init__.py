"""Fitting: the plain loop (fit), rate-distortion fitting of latent grids (rdfit), the learning-rate
schedule and quantization-aware training (qat). Takes tensors and modules; no file I/O.
"""
