"""Serve the MongoDB wire protocol on loopback for the event-log contract tests.

No MongoDB server can be installed on the development and CI machines, so the tests talk to
mongoeco's in-memory wire server instead. It needs Python 3.13, which is why this script runs in
its own interpreter (``.venv-services``) and is started as a subprocess by ``services.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import signal

from mongoeco.wire import AsyncMongoEcoProxyServer  # installed in .venv-services only


async def serve(host: str, port: int) -> None:
    server = AsyncMongoEcoProxyServer(host=host, port=port)
    await server.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    print(f"listening on {host}:{port}", flush=True)
    try:
        await stop.wait()
    finally:
        await server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    asyncio.run(serve(args.host, args.port))


if __name__ == "__main__":
    main()
