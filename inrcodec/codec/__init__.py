"""The codec: the plain encoder, the one decode runtime, and each medium's part.

Modules, lowest first: presets (EncodeConfig, presets) -> runtime (load_model, check_output_size,
the one renderer) -> image, audio, video (grids, decoding, measuring) -> result (EncodeResult, the
header builder, measuring a written file) -> encode (the plain encoder), verify (spdr verify).
"""
