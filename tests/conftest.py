"""Shared fixtures; normkit's own testing plugin gives ``normkit_pm``."""

from __future__ import annotations

import importlib.util
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest_plugins = ["normkit.testing"]

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seeds" / "000_d44c365b91d9de36.txt"

#: moto's S3 server and s3fs (``normkit[s3]`` and the ``test-s3`` extra): the S3 tests skip without them
HAVE_S3 = all(importlib.util.find_spec(name) is not None for name in ("moto", "s3fs", "flask"))
needs_s3 = pytest.mark.skipif(not HAVE_S3, reason="moto[server] and s3fs are not installed (normkit[s3] + moto)")


@pytest.fixture(scope="session")
def _cache_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One user cache folder for the session (the builtin rules' prefilters are cached there), not the user's."""
    return tmp_path_factory.mktemp("cache-home")


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, _cache_home: Path) -> None:
    """Tests see no plugins from the machine, no normkit.toml from the checkout, and no cache of the user's."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(_cache_home))
    monkeypatch.setenv("NORMKIT_LOAD_PLUGINS", "")
    monkeypatch.delenv("NORMKIT_TRACE_PLUGINS", raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def seed_dir(tmp_path: Path) -> Path:
    """A folder holding a copy of the seed article."""
    folder = tmp_path / "seeds"
    folder.mkdir()
    shutil.copy(SEED, folder / SEED.name)
    return folder


# -- S3: moto's server on loopback, read through s3fs (test_storage_inputs, test_dask_remote) ---------------


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """moto's standalone S3 server on 127.0.0.1, once per session; its endpoint URL."""
    if not HAVE_S3:
        pytest.skip("moto[server] and s3fs are not installed")
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no request log on stderr
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_endpoint(s3_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The environment a user of an S3-compatible store sets, for this test only (workers inherit it).

    fsspec keeps one S3 file system per set of options, with the client it made under the environment of
    the day: it is forgotten before and after, so no other test's s3fs (no endpoint, no credentials) is reused.
    """
    from s3fs import S3FileSystem

    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL_S3": s3_server,  # botocore reads it when a client is made
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    S3FileSystem.clear_instance_cache()
    yield s3_server
    S3FileSystem.clear_instance_cache()
