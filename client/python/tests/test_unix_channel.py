"""grpcio's plain ``unix:`` channel works against podauthd.

grpcio sends the percent-encoded socket path as ``:authority``, which the
daemon's HTTP/2 server used to refuse with RST_STREAM before any service
saw the call. These calls use a bare channel with no authority override.
"""

from __future__ import annotations

import grpc

import podauth
from harness.daemon import Daemon
from podauth.v1 import agent_pb2, agent_pb2_grpc


def test_bare_grpcio_channel_is_served(daemon: Daemon) -> None:
    with grpc.insecure_channel(f"unix:{daemon.socket}") as channel:
        stub = agent_pb2_grpc.AgentStub(channel)
        # Several calls on one connection: later ones refer to the HPACK
        # table entry the first one created.
        for _ in range(3):
            reply = stub.ListMethods(agent_pb2.ListMethodsRequest(), timeout=10)
            assert [m.name for m in reply.methods] == list(podauth.METHODS)
        status = stub.Status(agent_pb2.StatusRequest(), timeout=10)
        assert status.socket_path == str(daemon.socket)


def test_methods_and_status(client: podauth.Client, daemon: Daemon) -> None:
    methods = client.methods()
    assert [m.name for m in methods] == list(podauth.METHODS)
    assert [m.name for m in methods if m.is_default] == [podauth.DEFAULT_METHOD]
    assert {m.name for m in methods if m.uses_callback} == {"oidc-auth-code", "saml"}

    status = client.status()
    assert status.socket_path == str(daemon.socket)
    assert status.default_environment == "test"
    assert "test" in status.environments
    assert status.pending == ()
    assert status.callback_url.endswith(f":{daemon.callback_port}")


def test_module_level_calls_follow_podauth_sock(daemon_env: Daemon) -> None:
    assert podauth.status().pid == daemon_env.process.pid
    assert len(podauth.methods()) == 3
