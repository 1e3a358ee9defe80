"""spdr view: the photo in a browser, rendered by its own network on the GPU at the pixels on screen.

scene.py turns a checked file into numbers (the decode runtime rebuilds the networks); server.py serves the
packaged page (static/: viewer.html, viewer.js, shaders.js, view.js, viewer.css) and those numbers on
127.0.0.1 only. Nothing here fits or encodes; it sits beside bench, above the API and below the CLI.
"""
