"""Build hook: generates the gRPC stubs of ``podauth.v1`` from the protocol.

The stubs are compiled from ``proto/podauth/v1/agent.proto`` every time a
wheel is built, by the grpcio-tools the build requires, and are written
only into the build directory: they are never committed and can never be
older than the proto. A source distribution carries a copy of the proto
(see ``SdistWithProto``) so that it builds the same way away from the
repository.

The generated code refuses to run on a grpcio or protobuf older than the
generator that made it, so the package's own requirements are taken from
that generator's: whatever grpcio-tools built the wheel decides the
versions the wheel needs.
"""

from __future__ import annotations

import importlib.metadata
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

HERE = Path(__file__).resolve().parent
PROTO_FILE = Path("podauth/v1/agent.proto")
# In the repository the proto sits two levels up; an sdist carries a copy.
REPO_PROTO_ROOT = HERE.parent.parent / "proto"
SDIST_PROTO_ROOT = HERE / "proto"
EXTRA_DEPENDENCIES = ["segno>=1.6,<2"]


def proto_root() -> Path:
    """The directory to compile the proto from, checked to hold it."""
    in_sdist = (HERE / "PKG-INFO").exists()
    root = SDIST_PROTO_ROOT if in_sdist else REPO_PROTO_ROOT
    if not (root / PROTO_FILE).is_file():
        raise SystemExit(
            f"podauth build: {root / PROTO_FILE} not found; build from a podauth "
            "checkout (pip install ./client/python) or from its sdist"
        )
    return root


def runtime_requirements() -> list[str]:
    """grpcio and protobuf as the installed grpcio-tools requires them."""
    wanted = {"grpcio", "protobuf"}
    found = []
    for requirement in importlib.metadata.requires("grpcio-tools") or []:
        name = requirement.split(";")[0].strip()
        for sep in "<>=!~ [(":
            name = name.split(sep)[0]
        if name.lower() in wanted:
            found.append(requirement)
            wanted.discard(name.lower())
    if wanted:
        raise SystemExit(
            f"podauth build: grpcio-tools does not declare {sorted(wanted)}; "
            "cannot tell which versions its stubs need"
        )
    return found + EXTRA_DEPENDENCIES


class BuildWithStubs(build_py):
    """``build_py`` that also compiles the proto into the build directory."""

    def run(self) -> None:
        if self.editable_mode:
            out = HERE
        else:
            out = Path(self.build_lib)
            # An in-tree build reuses build/: start from nothing, so that a
            # module removed from the source never lingers in a wheel.
            shutil.rmtree(out / "podauth", ignore_errors=True)
        super().run()
        generate_stubs(out)


def generate_stubs(out: Path) -> None:
    """Writes ``podauth/v1/agent_pb2{,_grpc}.py`` (and ``.pyi``) under ``out``."""
    from grpc_tools import protoc

    root = proto_root()
    include = Path(protoc.__file__).parent / "_proto"
    args = [
        "grpc_tools.protoc",
        f"--proto_path={root}",
        f"--proto_path={include}",
        f"--python_out={out}",
        f"--pyi_out={out}",
        f"--grpc_python_out={out}",
        str(PROTO_FILE),
    ]
    if protoc.main(args) != 0:
        raise SystemExit(f"podauth build: protoc failed on {root / PROTO_FILE}")


class SdistWithProto(sdist):
    """``sdist`` that carries the proto, so the sdist builds on its own."""

    def make_release_tree(self, base_dir: str, files: list[str]) -> None:
        super().make_release_tree(base_dir, files)
        target = Path(base_dir) / "proto" / PROTO_FILE
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(proto_root() / PROTO_FILE, target)


setup(
    install_requires=runtime_requirements(),
    cmdclass={"build_py": BuildWithStubs, "sdist": SdistWithProto},
)
