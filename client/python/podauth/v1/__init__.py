"""The podauth.v1 wire protocol: stubs generated from proto/podauth/v1/agent.proto.

``agent_pb2`` and ``agent_pb2_grpc`` are written here when the package is
built (see setup.py) and are not in the source tree. Everything else in
podauth uses them through ``podauth._wire``; application code should not
need them.
"""
