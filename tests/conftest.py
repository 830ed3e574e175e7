"""Shared test helpers: run the CLI in-process, write topologies, generate and parse modules."""

from __future__ import annotations

import contextlib
import io
import os
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hcl2
import pytest
from hcl2 import SerializationOptions

from generator.cli import main
from generator.sources.hcl_module import resource_blocks

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
# the committed Terraform modules (a `windows/` folder holds host firewall scripts instead)
TERRAFORM_MODULES = sorted(p for p in (ROOT / "modules").glob("*/*") if (p / "main.tf").is_file())
HCL_OPTIONS = SerializationOptions(strip_string_quotes=True, explicit_blocks=False,
                                   with_comments=False)


def pytest_configure(config: pytest.Config) -> None:
    """scadafw's caches live in a folder of this session's own: a test that patches scadafw
    at run time (a smaller quota, say) must neither read nor leave entries a real run uses.
    So does Terraform's plugin cache: an init holds it alone, and with one per session (each
    pytest-xdist worker is one) a worker's inits never wait on another worker's plans."""
    del config
    import tempfile  # noqa: PLC0415

    os.environ["SCADAFW_CACHE_DIR"] = tempfile.mkdtemp(prefix="scadafw-test-cache-")
    os.environ["TF_PLUGIN_CACHE_DIR"] = tempfile.mkdtemp(prefix="scadafw-test-plugins-")


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """With pytest-xdist (`make test` runs `-n auto --dist loadgroup`): the tests that look up
    the applied examples run in one worker, so the examples are applied once; the other tests
    that use a moto server or Terraform, and the real-packet tests, in one worker per file, so
    a file's fixtures are made once (the packet lab's namespaces are named after the process)."""
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if "apply_example" in fixtures:
            item.add_marker(pytest.mark.xdist_group("applied"))
        elif ("terraform" in fixtures or "moto_server" in fixtures
              or item.path.name == "test_packets.py"):
            item.add_marker(pytest.mark.xdist_group(item.path.stem))


@dataclass
class Result:
    code: int
    out: str
    err: str


def run_cli(*args: str | Path) -> Result:
    """Run `scadafw ARGS` in-process, capturing what it prints."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:  # argparse's --help, --version and usage errors
            code = int(exc.code or 0)
    return Result(code, out.getvalue(), err.getvalue())


def parse_hcl(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return dict(hcl2.load(handle, serialization_options=HCL_OPTIONS))


def resources(path: Path) -> dict[str, dict[str, dict[str, Any]]]:
    """type -> name -> attributes, for one .tf file."""
    found: dict[str, dict[str, dict[str, Any]]] = {}
    for rtype, name, attrs in resource_blocks(parse_hcl(path)):
        found.setdefault(rtype, {})[name] = attrs
    return found


def topology_text(system: str = "plant-x", port: int | None = None,
                  servers: list[tuple[str, str]] | None = None,
                  targets: str = "[aws, azure]") -> str:
    servers = servers or [("scada-a", "main"), ("scada-b", "standby")]
    lines = ["version: 1", f"system: {system}"]
    if port is not None:
        lines.append(f"port: {port}")
    lines.append(f"targets: {targets}")
    lines.append("servers:")
    lines += [f"  - {{name: {name}, role: {role}}}" for name, role in servers]
    return "\n".join(lines) + "\n"


@pytest.fixture
def write_topology(tmp_path: Path) -> Callable[..., Path]:
    counter = iter(range(10_000))

    def write(text: str, name: str | None = None) -> Path:
        path = tmp_path / (name or f"topology-{next(counter)}.yaml")
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


@pytest.fixture
def generate(tmp_path: Path) -> Callable[[Path], Path]:
    """Generate modules for a topology into a fresh folder; return that folder."""

    def run(topology: Path) -> Path:
        out = tmp_path / f"out-{topology.stem}"
        result = run_cli("generate", topology, "--out", out)
        assert result.code == 0, result.err
        return out

    return run


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder`, by relative path, for before/after comparisons."""
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


# Real Terraform: tests that need it skip with the reason where the binary or the AWS provider
# is missing, and fail instead when SCADAFW_REQUIRE_TERRAFORM is set (.ci/run sets it on a
# machine that has both), so CI can never pass by skipping them.
REQUIRE_TERRAFORM = "SCADAFW_REQUIRE_TERRAFORM"


def _terraform_missing() -> str | None:
    from generator.sources.terraform import (  # noqa: PLC0415
        MIRROR_VARIABLE,
        find_provider_mirror,
        find_terraform,
    )

    if find_terraform() is None:
        return "no `terraform` on PATH"
    if find_provider_mirror() is None and not os.environ.get("SCADAFW_TERRAFORM_REGISTRY"):
        return (f"no hashicorp/aws provider mirror found (set {MIRROR_VARIABLE}, or "
                "SCADAFW_TERRAFORM_REGISTRY=1 where the registry is reachable)")
    return None


def need(reason: str | None, required_by: str, what: str) -> None:
    """Skip a real-component test with `reason` when its component is missing here, or fail
    where CI requires the component (`required_by` set: .ci/run sets it where it works)."""
    if reason is None:
        return
    if os.environ.get(required_by):
        pytest.fail(f"{required_by} is set but {reason}")
    pytest.skip(f"{what}: {reason}")


def need_terraform() -> None:
    """Skip (or, where CI requires Terraform, fail) when Terraform cannot run here."""
    need(_terraform_missing(), REQUIRE_TERRAFORM, "real Terraform test")


@pytest.fixture(scope="session")
def terraform_work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    need_terraform()
    return tmp_path_factory.mktemp("terraform")


@pytest.fixture(scope="session")
def terraform(terraform_work: Path) -> Any:
    from generator.sources.terraform import Terraform, find_provider_mirror  # noqa: PLC0415

    return Terraform.prepare(terraform_work, find_provider_mirror())


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """One moto server on 127.0.0.1 for the session, in a process of its own (in-process moto,
    which `verify` uses, resets the backends it shares when its block ends): (endpoint URL,
    EC2 client)."""
    import socket  # noqa: PLC0415
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415
    import time  # noqa: PLC0415

    from generator.sources.landscape import ec2_client  # noqa: PLC0415

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = tmp_path_factory.mktemp("moto") / "server.log"
    with log.open("w") as out:
        server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1",
                                   "-p", str(port)], stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            with socket.socket() as attempt:
                if attempt.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if time.monotonic() > deadline or server.poll() is not None:
                pytest.fail(f"moto server did not start: {log.read_text()[-2000:]}")
            time.sleep(0.1)
        endpoint = f"http://127.0.0.1:{port}"
        yield endpoint, ec2_client(endpoint)
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture(scope="session")
def apply_example(terraform: Any, moto_server: Any,
                  tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Every example and mutation of tests/terraform_variants.py, applied once per run."""
    from tests.terraform_variants import apply_all  # noqa: PLC0415

    return apply_all(terraform, moto_server, tmp_path_factory.mktemp)
