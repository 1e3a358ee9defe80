"""python -m inrcodec: the spdr command line."""

from .cli import main

main()
