"""A cloud quota one module's rules must fit, and how much of it they use: each target counts
what it renders (generator/targets/aws.py, azure.py), so the rendered rules are the one source
of truth for `generate`'s refusal and `flows --format json`'s headroom."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Usage:
    cloud: str
    module: str  # the module folder under <system>/
    scope: str  # "security group ... ingress rules (IPv4)", "NSG ... rules", ...
    used: int
    limit: int

    @property
    def headroom(self) -> int:
        return self.limit - self.used

    def as_dict(self) -> dict[str, object]:
        return {"cloud": self.cloud, "module": self.module, "scope": self.scope,
                "used": self.used, "limit": self.limit, "headroom": self.headroom}
