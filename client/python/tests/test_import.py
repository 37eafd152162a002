"""Importing podauth stays light: no Jupyter, IPython or ZeroMQ module is
loaded until a kernel is actually there."""

from __future__ import annotations

import json
import subprocess
import sys

NOTEBOOK_MODULES = {"IPython", "ipykernel", "jupyter_client", "ipywidgets", "zmq", "tornado"}


def test_import_loads_no_jupyter_module() -> None:
    code = (
        "import json, sys; import podauth, podauth.aio, podauth.display; "
        "print(json.dumps(sorted(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    loaded = {name.split(".")[0] for name in json.loads(out.stdout)}
    assert not loaded & NOTEBOOK_MODULES, f"import podauth loaded {loaded & NOTEBOOK_MODULES}"
