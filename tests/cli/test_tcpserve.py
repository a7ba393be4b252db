"""``serve --workers N`` binds its listening socket as TCP, so asyncio turns Nagle's algorithm off
on every accepted connection (with uvicorn's own socket it stays on, and kept-alive responses
wait for the client's delayed ACK)."""

from __future__ import annotations

import asyncio
import socket

import uvicorn

from matcher.cli.tcpserve import TcpConfig


def _nodelay_of_accepted(config_cls: type) -> int:
    """TCP_NODELAY of a connection accepted by asyncio on the socket ``config_cls`` binds."""
    config = config_cls("api.app:create_app", factory=True, host="127.0.0.1", port=0)
    listening = config.bind_socket()

    async def run() -> int:
        seen: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        class Probe(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                sock = transport.get_extra_info("socket")
                if not seen.done():
                    seen.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                transport.close()

        server = await asyncio.get_running_loop().create_server(Probe, sock=listening)
        port = listening.getsockname()[1]
        _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            return await asyncio.wait_for(seen, 10)
        finally:
            writer.close()
            server.close()

    try:
        return asyncio.run(run())
    finally:
        listening.close()


def test_the_workers_socket_is_tcp_and_its_connections_have_nagle_off():
    assert _nodelay_of_accepted(TcpConfig) != 0


def test_the_check_sees_uvicorns_own_socket():
    """Guards the test: uvicorn's own bind (protocol 0) leaves Nagle on (if a later uvicorn fixes
    this, TcpConfig is no longer needed)."""
    assert _nodelay_of_accepted(uvicorn.Config) == 0
