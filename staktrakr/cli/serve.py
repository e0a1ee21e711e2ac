"""`staktrakr serve`: the published files, /healthz, /metrics and the job trigger (uvicorn)."""

from __future__ import annotations

import signal
from typing import Annotated

import typer

from staktrakr.cli.common import handle_errors, setup


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
        uvicorn.run(create_app(settings), host=host or settings.serve_host, port=port or settings.serve_port,
                    log_config=None, server_header=False, proxy_headers=True, forwarded_allow_ips="*")
