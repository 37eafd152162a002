"""Real parts for podauth's Python tests: the daemon, the test OpenID
Provider, a browser robot, a reference Pod and Jupyter kernels.

Each module starts one kind of process and stops it on every path; the
fixtures in ``tests/conftest.py`` tie them to tests.
"""
