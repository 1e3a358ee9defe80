"""inrcodec: the spdr neural media codec (coordinate networks with SPDER activations)."""
