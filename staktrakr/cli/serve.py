"""`staktrakr serve`: the published files, /healthz, /metrics and the job trigger (uvicorn)."""

from __future__ import annotations

import signal
import socket
from typing import Annotated

import typer

from staktrakr.cli.common import handle_errors, setup
from staktrakr.errors import JobFailed


def register(app: typer.Typer) -> None:
    @app.command("serve")
    @handle_errors
    def serve(
        host: Annotated[str | None, typer.Option("--host", help="Address to bind (default SERVE_HOST).")] = None,
        port: Annotated[int | None, typer.Option("--port", min=1, max=65535,
                                                    help="Port (default SERVE_PORT).")] = None,
    ) -> None:
        """Serve API_EXPORT_DIR/data/, GET /healthz, GET /metrics, POST /api/ops/trigger/{job}."""
        import uvicorn

        from staktrakr.ops.server import create_app

        settings = setup()
        # uvicorn shuts down on TERM/INT (triggered jobs stopped first), then re-raises the signal
        # to the handler it found: the default one, so the process ends by the signal as services expect
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        address, number = host or settings.serve_host, port or settings.serve_port
        listener = listen(address, number)  # bound here: a busy port is one line and exit 1, not uvicorn's 3
        # forwarded headers are believed only from SERVE_FORWARDED_ALLOW_IPS (loopback by default): a
        # client elsewhere cannot pick the address its failed logins are counted under
        config = uvicorn.Config(create_app(settings), host=address, port=number, log_config=None,
                                server_header=False, proxy_headers=True,
                                forwarded_allow_ips=settings.serve_forwarded_allow_ips)
        server = uvicorn.Server(config)
        server.run(sockets=[listener])
        if not server.started:
            raise JobFailed(f"serve: could not start on {address}:{number}")


def listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port (IPv4 or IPv6 as the address resolves).

    Raises JobFailed naming host:port when the port is taken, the address is not this host's or
    the user may not bind it."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0][0]
        return socket.create_server((host, port), family=family, backlog=2048)
    except OSError as exc:
        raise JobFailed(f"serve: cannot listen on {host}:{port}: {exc.strerror or exc}") from None
