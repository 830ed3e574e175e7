"""What a plan does to a Geo SCADA system, in the terms a reviewer asks about: forbidden flows
it opens, needed flows it lacks, flows it adds or removes, and replacements that interrupt
synchronisation while they run. Judged with the evaluator `verify` and `audit` use.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from generator.judge.azure import AzureState
from generator.model import System
from generator.policy import applicable_services, server_allows
from generator.review.aws_plan import AWS_TYPES, AwsPlan
from generator.review.azure_plan import AzurePlan
from generator.review.plan import Resolver, changes, resources
from generator.verify.aws_effective import AwsState, decide_traffic
from generator.verify.azure_nsg import decide_traffic as azure_traffic
from generator.verify.reachability import Decision, Endpoint, Traffic

FIREWALL_TYPES = (*AWS_TYPES, "aws_instance", "azurerm_network_security_group",
                  "azurerm_network_security_rule", "azurerm_application_security_group",
                  "azurerm_network_interface_security_group_association",
                  "azurerm_network_interface_application_security_group_association",
                  "azurerm_subnet_network_security_group_association")
Flow = tuple[str, str, str]  # source, destination, traffic


@dataclass
class Review:
    system: str
    forbidden: list[tuple[Flow, str]] = field(default_factory=list)  # and what opens it
    missing: list[tuple[Flow, str]] = field(default_factory=list)  # and why it is shut
    added: list[Flow] = field(default_factory=list)
    removed: list[Flow] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    undecided: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    judged: bool = True  # False: none of the system's servers is in the plan

    def __post_init__(self) -> None:
        self.notes = list(self.notes)

    @property
    def findings(self) -> int:
        return (len(self.forbidden) + len(self.missing) + len(self.replaced)
                + (0 if self.judged else 1))

    def as_dict(self) -> dict[str, Any]:
        return {
            "system": self.system, "ok": self.findings == 0,
            "forbidden": [{"flow": _flow_text(f), "opened_by": why} for f, why in self.forbidden],
            "missing": [{"flow": _flow_text(f), "because": why} for f, why in self.missing],
            "added": [_flow_text(f) for f in self.added],
            "removed": [_flow_text(f) for f in self.removed],
            "replaced": self.replaced, "undecided": self.undecided, "notes": self.notes,
        }


def _flow_text(flow: Flow) -> str:
    return f"{flow[0]} -> {flow[1]} {flow[2]}"


Decide = Callable[[Endpoint, Endpoint, Traffic, bool], Decision]


def _aws_decide(state: AwsState) -> Decide:
    def decide(src: Endpoint, dst: Endpoint, traffic: Traffic, inward: bool) -> Decision:
        return decide_traffic(state, src, dst, traffic, egress_open=inward)
    return decide


def _azure_decide(state: AzureState) -> Decide:
    def decide(src: Endpoint, dst: Endpoint, traffic: Traffic, inward: bool) -> Decision:
        del inward  # a NIC has one NSG, and the plan holds it: both ends are known
        return azure_traffic(state, src, dst, traffic)
    return decide


def _allowed(decide: Decide, system: System) -> dict[Flow, tuple[bool, bool, str]]:
    """(needed, allowed, why) per pair and service; a flow the matrix forbids counts as opened
    when the destination's side admits it."""
    found = {}
    for src in system.servers:
        for dst in system.servers:
            if src.name == dst.name:
                continue
            for service in applicable_services(src, dst):
                traffic = Traffic.of(service, system.port)
                needed = server_allows(src, dst, service)
                decision = decide(Endpoint.of(src), Endpoint.of(dst), traffic, not needed)
                found[(src.name, dst.name, traffic.label)] = (needed, decision.allowed,
                                                              decision.because)
    return found


Clouds = list[tuple[str, Decide, list[str]]]


def _clouds(plan: dict[str, Any], system: System, prior: bool) -> tuple[Clouds, list[str]]:
    """(cloud, evaluator, servers not found) for each cloud where the system's module is, and
    what could not be followed in the plan."""
    found = resources(plan, prior=prior)
    resolver = Resolver(plan, found)
    result: list[tuple[str, Decide, list[str]]] = []
    aws = AwsPlan(found, resolver)
    interfaces = aws.server_interfaces(system)
    if interfaces:
        result.append(("aws", _aws_decide(aws.state(system, interfaces)),
                       [s.name for s in system.servers if s.name not in interfaces]))
    azure = AzurePlan(found, resolver)
    nics = azure.server_nics(system)
    if nics:
        result.append(("azure", _azure_decide(azure.judge(system, nics)),
                       [s.name for s in system.servers if s.name not in nics]))
    return result, resolver.undecided


def review_plan(plan: dict[str, Any], system: System) -> list[Review]:
    """One review per cloud where the plan holds the system's module (or one saying none)."""
    counts: dict[str, int] = {}
    for r in resources(plan):
        if r.type in FIREWALL_TYPES:
            counts[r.type] = counts.get(r.type, 0) + 1
    found_note = "firewall resources in the plan: " + (", ".join(
        f"{n} {t}" for t, n in sorted(counts.items())) or "none")
    before = {cloud: decide for cloud, decide, _ in _clouds(plan, system, prior=True)[0]} \
        if plan.get("prior_state") else {}
    reviews = []
    clouds, undecided = _clouds(plan, system, prior=False)
    for cloud, decide, missing_servers in clouds:
        review = Review(f"{system.name} ({cloud})")
        review.undecided += [f"{n}: no interface of it is in the plan" for n in missing_servers]
        flows = _allowed(decide, system)
        for flow, (needed, allowed, why) in sorted(flows.items()):
            if needed and not allowed:
                review.missing.append((flow, why))
            elif not needed and allowed:
                review.forbidden.append((flow, why))
        if cloud in before:
            was = _allowed(before[cloud], system)
            now = {f for f, (_, ok, _) in flows.items() if ok}
            then = {f for f, (_, ok, _) in was.items() if ok}
            review.added, review.removed = sorted(now - then), sorted(then - now)
        if cloud == "aws":
            review.notes.append("groups attached outside this configuration (an instance's "
                                "launch group) are not in the plan; forbidden flows are judged "
                                "on the destination's groups alone, as if the source could "
                                "send anything")
        reviews.append(review)
    if not reviews:
        review = Review(system.name, judged=False)
        review.undecided.append(f"no server of {system.name} was found in the plan: no "
                                "scadafw module of it attaches its groups to interfaces there")
        reviews.append(review)
    reviews[0].replaced = replacements(plan)
    reviews[0].undecided += undecided
    reviews[0].notes.insert(0, found_note)
    return reviews


_SAME = {"aws_network_interface_sg_attachment": ("network_interface_id",),
         "azurerm_network_interface_security_group_association": ("network_interface_id",),
         "azurerm_network_interface_application_security_group_association": (
             "network_interface_id",)}


def replacements(plan: dict[str, Any]) -> list[str]:
    """Firewall resources the plan deletes and creates: in place (`-/+`), or under a new
    address with the same interface (a renamed server without a `moved` block)."""
    found = []
    deleted: dict[tuple[str, tuple[Any, ...]], str] = {}
    created: list[tuple[tuple[str, tuple[Any, ...]], str]] = []
    for change in changes(plan):
        kind, body = change.get("type"), change.get("change", {})
        actions = body.get("actions", [])
        if kind not in FIREWALL_TYPES:
            continue
        if "delete" in actions and "create" in actions:
            found.append(f"{change['address']} (replaced in place)")
        elif kind in _SAME and actions in (["delete"], ["create"]):
            side = body.get("before") if actions == ["delete"] else body.get("after")
            key = (kind, tuple((side or {}).get(a) for a in _SAME[kind]))
            if actions == ["delete"]:
                deleted[key] = change["address"]
            else:
                created.append((key, change["address"]))
    for key, address in created:
        if key in deleted and key[1] != (None,):
            found.append(f"{deleted[key]} -> {address} (deleted and created under a new "
                         "address: add a `moved` block)")
    return found


def as_text(reviews: list[Review]) -> str:
    lines = []
    for r in reviews:
        verdict = ("not judged" if not r.judged else
                   "clean" if r.findings == 0 else f"{r.findings} finding(s)")
        lines.append(f"{r.system}: {verdict}")
        lines += [f"  FORBIDDEN  {_flow_text(f)}  opened by {why}" for f, why in r.forbidden]
        lines += [f"  MISSING    {_flow_text(f)}  ({why})" for f, why in r.missing]
        lines += [f"  REPLACED   {a}; flows through it stop while it runs" for a in r.replaced]
        lines += [f"  added      {_flow_text(f)}" for f in r.added]
        lines += [f"  removed    {_flow_text(f)}" for f in r.removed]
        lines += [f"  undecided  {u}" for u in r.undecided]
        lines += [f"  note       {n}" for n in r.notes]
    return "\n".join(lines) + "\n"


def as_json(reviews: list[Review]) -> str:
    return json.dumps({"ok": all(r.findings == 0 for r in reviews),
                       "systems": [r.as_dict() for r in reviews]}, indent=2) + "\n"


def as_markdown(reviews: list[Review]) -> str:
    lines = ["<!-- scadafw review -->", "## Geo SCADA firewall review", ""]
    for r in reviews:
        mark = ":white_check_mark:" if r.findings == 0 else ":x:"
        lines += [f"### {mark} `{r.system}`", ""]
        rows = ([("forbidden, opened", _flow_text(f), why) for f, why in r.forbidden]
                + [("needed, missing", _flow_text(f), why) for f, why in r.missing]
                + [("replaced (outage while it runs)", a, "") for a in r.replaced]
                + [("added", _flow_text(f), "") for f in r.added]
                + [("removed", _flow_text(f), "") for f in r.removed]
                + [("undecided", u, "") for u in r.undecided])
        if rows:
            lines += ["| what | flow or resource | by |", "|---|---|---|"]
            lines += [f"| {a} | {_cell(b)} | {_cell(c)} |" for a, b, c in rows]
        else:
            lines.append("Every Geo SCADA flow stays open and nothing forbidden opens.")
        lines += [""] + [f"_{n}_" for n in r.notes] + [""]
    return "\n".join(lines).rstrip("\n") + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
