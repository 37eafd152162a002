"""The gRPC stubs in the installed package are the ones the proto defines.

The stubs are generated at build time; this compiles the repository's
proto afresh and compares the two descriptors, so a wheel built from an
older proto fails here.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from google.protobuf import descriptor_pb2

from harness.paths import PROTO_ROOT
from podauth.v1 import agent_pb2, agent_pb2_grpc

PROTO = "podauth/v1/agent.proto"


def compiled_descriptor(out: Path) -> descriptor_pb2.FileDescriptorProto:
    descriptor_set = out / "agent.desc"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            f"--proto_path={PROTO_ROOT}",
            f"--descriptor_set_out={descriptor_set}",
            PROTO,
        ],
        check=True,
    )
    files = descriptor_pb2.FileDescriptorSet.FromString(descriptor_set.read_bytes())
    (only,) = files.file
    return only


def without_json_names(file: descriptor_pb2.FileDescriptorProto) -> None:
    """protoc fills in ``json_name`` only in descriptor sets; drop it."""

    def clear(message: descriptor_pb2.DescriptorProto) -> None:
        for field in message.field:
            field.ClearField("json_name")
        for nested in message.nested_type:
            clear(nested)

    for message in file.message_type:
        clear(message)


def test_installed_stubs_match_the_proto(tmp_path: Path) -> None:
    installed = descriptor_pb2.FileDescriptorProto()
    agent_pb2.DESCRIPTOR.CopyToProto(installed)
    fresh = compiled_descriptor(tmp_path)
    without_json_names(fresh)
    assert installed.name == PROTO
    assert installed == fresh, "podauth's stubs are stale: reinstall ./client/python"


def test_every_rpc_has_a_stub_method() -> None:
    service = agent_pb2.DESCRIPTOR.services_by_name["Agent"]
    stub = agent_pb2_grpc.AgentStub.__init__.__code__.co_names
    for method in service.methods:
        assert method.name in stub, f"no stub for {method.name}"
