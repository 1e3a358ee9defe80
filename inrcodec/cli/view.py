"""`spdr view`: serve a photo's network to the browser, rendered on the GPU at the pixels on screen."""

from __future__ import annotations

from pathlib import Path

import click

from .options import handle_errors


@click.command()
@click.argument("file", type=click.Path(dir_okay=True, path_type=str))
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="Port on 127.0.0.1 to serve the page on (0: any free port).")
@click.option("--no-browser", is_flag=True, help="Print the address without opening a browser.")
@handle_errors
def view(file, port, no_browser):
    """Open a .spdr photo in the browser: zoom and pan, the network rendered at every screen pixel (WebGL2).

    The server listens on 127.0.0.1 only, serves its page and this file's numbers and nothing else, and
    stops on Ctrl-C. The page needs no network: every script and style ships with spdr.
    """
    import webbrowser

    from ..api import read_spdr
    from ..view.scene import build_scene, native_rgba
    from ..view.server import ViewServer, viewer_routes

    checked = read_spdr(file)  # every check spdr decode makes, before torch is imported or a port is opened
    manifest, blob = build_scene(checked, Path(file).name)
    server = ViewServer(viewer_routes(manifest, blob, lambda: native_rgba(checked)), port)
    click.echo(f"spdr view: {file} at {server.url} (Ctrl-C stops)", err=False)
    if not no_browser and not webbrowser.open(server.url):
        click.echo("note: no browser could be opened here; open the address above in one", err=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        click.echo("spdr view: stopped")
    finally:
        server.server_close()
