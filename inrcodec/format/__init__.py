"""The .spdr format, torch-free: header schema and limits, container framing, payload codings,
the range coder, tensor geometry and the decoder's limits (docs/format.md is the normative text).

Everything here works on bytes, dicts and numpy arrays only, so `spdr info`, `spdr verify`'s
structural checks and every refusal of a hostile file happen before torch is imported.
Modules, lowest first: geometry, header, entropy -> compact -> container -> limits.
"""
