"""``faisceau serve``: the web application (``faisceau.web``) with uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer

from faisceau.cli.common import console, user_errors

LOOPBACK = ("127.0.0.1", "::1", "localhost")


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(
        min=1, max=64, help="Worker processes (one per core is a good start).")] = 1,
    access_log: Annotated[bool, typer.Option(
        "--access-log", help="Log every HTTP request on standard output (off: addresses "
        "carry searched phones and names, which the consultation log keeps, protected).")]
    = False,
) -> None:
    """Serve the web application (pages in French and JSON API) on the store of
    FAISCEAU_HOME / FAISCEAU_DATABASE_URL. Behind HTTPS, set FAISCEAU_HTTPS_ONLY=1."""
    import uvicorn

    from faisceau.web.app import create_app

    with user_errors():
        app = create_app()
    if host not in LOOPBACK:
        console.print("faisceau: attention : l'application écoute sur une adresse du réseau ; "
                      "ne l'exposer que derrière HTTPS (FAISCEAU_HTTPS_ONLY=1).",
                      markup=False, highlight=False)
    # The client address is the socket's: the login rate limit must not trust a forwarded
    # header that anyone can set.
    if workers == 1:
        uvicorn.run(app, host=host, port=port, proxy_headers=False, server_header=False,
                    access_log=access_log)
        return
    # Several processes each build the application from the environment (the store, the
    # secret key: set FAISCEAU_SECRET_KEY, or the key file is shared through the store's home).
    uvicorn.run("faisceau.web.app:create_app", factory=True, workers=workers, host=host,
                port=port, proxy_headers=False, server_header=False, access_log=access_log)


def register(app: typer.Typer) -> None:
    """Add ``faisceau serve`` to the command line."""
    app.command("serve")(serve)
