"""The `terraform` binary, run as a subprocess: finding it, installing the AWS provider, and the
commands a proof needs (init, validate, plan, show -json, apply).

Where no registry can be reached, a filesystem mirror of hashicorp/aws is used through a CLI
configuration written for the run (`provider_installation { filesystem_mirror { ... } }`). It is
found from `SCADAFW_PROVIDER_MIRROR`, or in Terraform's own implied mirror folders and under
/opt. Providers are linked from a plugin cache, so `terraform init` copies nothing per run.
Terraform does not make that cache safe to share while an init runs (an init re-links the
provider in it, and a plan in another run that starts the provider then finds nothing), so
scadafw's commands hold a lock file in it: an init alone, any others together.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.errors import ScadafwError

AWS_PROVIDER = "registry.terraform.io/hashicorp/aws"
MIRROR_VARIABLE = "SCADAFW_PROVIDER_MIRROR"
_IMPLIED_MIRRORS = ("~/.terraform.d/plugins", "~/.local/share/terraform/plugins",
                    "/usr/local/share/terraform/plugins", "/usr/share/terraform/plugins")
_TAIL = 12  # lines of Terraform's own output quoted in an error


class TerraformError(ScadafwError):
    """Terraform is missing, or one of its commands failed."""


def find_terraform() -> Path | None:
    found = shutil.which("terraform")
    return Path(found) if found else None


def _holds_aws_provider(folder: Path) -> bool:
    return any((folder / AWS_PROVIDER).glob("*/*/terraform-provider-aws*"))


def find_provider_mirror() -> Path | None:
    """A folder laid out as a Terraform filesystem mirror that holds hashicorp/aws, or None."""
    named = os.environ.get(MIRROR_VARIABLE)
    if named:
        folder = Path(named).expanduser()
        return folder if _holds_aws_provider(folder) else None
    candidates = [Path(p).expanduser() for p in _IMPLIED_MIRRORS]
    opt = Path("/opt")
    if opt.is_dir():
        candidates += sorted(p for p in opt.iterdir() if p.is_dir())
    return next((c for c in candidates if c.is_dir() and _holds_aws_provider(c)), None)


def cli_configuration(mirror: Path, cache: Path) -> str:
    """A Terraform CLI configuration that installs hashicorp/aws from `mirror` only."""
    return (f'plugin_cache_dir = {json.dumps(str(cache))}\n\n'
            'provider_installation {\n'
            '  filesystem_mirror {\n'
            f'    path    = {json.dumps(str(mirror))}\n'
            f'    include = ["{AWS_PROVIDER}"]\n'
            '  }\n'
            '  direct {\n'
            f'    exclude = ["{AWS_PROVIDER}"]\n'
            '  }\n'
            '}\n')


def moto_provider_override(endpoint: str, region: str) -> str:
    """An override file for a root configuration: every AWS call goes to `endpoint` (moto).

    Account-id lookup stays on: moto answers STS GetCallerIdentity, and without it the provider
    reads referenced group ids back as `ACCOUNT/sg-...` and plans a change on every run."""
    return ('# written by scadafw for a proof against an AWS emulator; not for real accounts\n'
            'provider "aws" {\n'
            f'  region                      = {json.dumps(region)}\n'
            '  access_key                  = "testing"\n'
            '  secret_key                  = "testing"\n'
            '  skip_credentials_validation = true\n'
            '  skip_metadata_api_check     = true\n'
            '  skip_region_validation      = true\n\n'
            '  endpoints {\n'
            f'    ec2 = {json.dumps(endpoint)}\n'
            f'    sts = {json.dumps(endpoint)}\n'
            '  }\n'
            '}\n')


def _cache_folder() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "scadafw" / "terraform-plugins"


@contextmanager
def _turn(cache: Path | None, alone: bool) -> Iterator[None]:
    """Hold the plugin cache's lock file: alone (an init, which changes the cache) or beside
    other commands. Without a cache, or on Windows (no `fcntl`), nothing to wait for."""
    if cache is None or sys.platform == "win32":
        yield
        return
    import fcntl  # noqa: PLC0415

    with open(cache / ".scadafw.lock", "a", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX if alone else fcntl.LOCK_SH)  # released on close
        yield


@dataclass
class Terraform:
    """One terraform binary and the environment its commands run in."""

    binary: Path
    env: dict[str, str] = field(default_factory=dict)
    plugin_cache: Path | None = None  # an init changes it: see _turn

    @classmethod
    def prepare(cls, work: Path, mirror: Path | None = None,
                binary: Path | None = None) -> Terraform:
        """Terraform for a run in `work`: with a mirror, a CLI configuration there that uses it
        (and a plugin cache); without one, the user's own configuration and registry."""
        binary = binary or find_terraform()
        if binary is None:
            raise TerraformError("terraform is not on PATH: install Terraform 1.5 or newer "
                                 "(https://developer.hashicorp.com/terraform/install)")
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("AWS_", "TF_VAR_", "TF_CLI_ARGS"))}
        env.update(TF_IN_AUTOMATION="1", TF_INPUT="0", CHECKPOINT_DISABLE="1",
                   AWS_EC2_METADATA_DISABLED="true")
        cache = None
        if mirror is not None:
            cache = Path(os.environ.get("TF_PLUGIN_CACHE_DIR") or _cache_folder())
            cache.mkdir(parents=True, exist_ok=True)
            config = work / "scadafw.tfrc"
            config.write_text(cli_configuration(mirror, cache), encoding="utf-8")
            env["TF_CLI_CONFIG_FILE"] = str(config)
            env.pop("TF_PLUGIN_CACHE_DIR", None)
        return cls(binary, env, cache)

    def run(self, folder: Path, *args: str,
            ok: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess[str]:
        command = [str(self.binary), *args]
        with _turn(self.plugin_cache, alone=args[0] == "init"):
            done = subprocess.run(command, cwd=folder, env=self.env, capture_output=True,
                                  text=True, check=False)
        if done.returncode not in ok:
            output = (done.stderr.strip() or done.stdout.strip()).splitlines()[-_TAIL:]
            raise TerraformError(f"`terraform {' '.join(args)}` failed in {folder} "
                                 f"(exit {done.returncode}):\n  " + "\n  ".join(output))
        return done

    def init(self, folder: Path) -> None:
        self.run(folder, "init", "-input=false", "-no-color", "-backend=false")

    def validate(self, folder: Path) -> dict[str, Any]:
        done = self.run(folder, "validate", "-json", "-no-color", ok=(0, 1))
        return dict(json.loads(done.stdout))

    def plan(self, folder: Path, out: str = "plan.out") -> int:
        """`plan -detailed-exitcode`: 0 no changes, 2 changes."""
        done = self.run(folder, "plan", "-input=false", "-no-color", "-detailed-exitcode",
                        f"-out={out}", ok=(0, 2))
        return done.returncode

    def show(self, folder: Path, plan: str | None = None) -> dict[str, Any]:
        """`show -json`: the plan's JSON when `plan` is given, else the state's."""
        done = self.run(folder, "show", "-json", "-no-color", *([plan] if plan else []))
        return dict(json.loads(done.stdout))

    def apply(self, folder: Path, plan: str = "plan.out") -> None:
        self.run(folder, "apply", "-input=false", "-no-color", "-auto-approve", plan)

    def fmt_check(self, folder: Path) -> subprocess.CompletedProcess[str]:
        return self.run(folder, "fmt", "-check", "-recursive", "-diff", "-no-color", ok=(0, 3))
