"""`review`: what a plan does to a Geo SCADA system, in the terms a reviewer asks about, judged
by sets as verify and audit judge: forbidden flows it opens and needed flows it lacks (every
server address, every protocol and port the system uses, every party), flows it adds or removes
against the plan's prior state, replacements that interrupt synchronisation while they run,
and what it could not decide.

AWS: groups attached outside the plan (an instance's launch group, which keeps AWS's default
allow-all egress) are not in it, so an extra destination on a server's outbound side is a
latent note; each destination's inbound side is judged whole. A server address no interface
in the plan holds is a note (a plan may manage part of a system), a finding with
`require_all`. An interface whose groups the plan does not let scadafw follow is undecided: a
finding unless `allow_undecided`, and never a missing flow.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from generator.checks.audit import latent
from generator.checks.judgement import findings_of
from generator.checks.report import FORBIDDEN, LATENT, MISSING, Finding
from generator.checks.verify import named_addresses
from generator.intent.links import LinkIntent, expand
from generator.judge.aws import aws_sides
from generator.judge.azure import azure_sides
from generator.judge.naming import describe
from generator.judge.sides import Judged, Side, judge_side
from generator.model import System
from generator.sources.acl_plan import ACL_TYPES
from generator.sources.aws_plan import AWS_TYPES, AwsPlan
from generator.sources.azure_plan import AzurePlan
from generator.sources.plan import Resolver, changes, resources

FIREWALL_TYPES = (*AWS_TYPES, *ACL_TYPES[:-1], "azurerm_network_security_group",
                  "azurerm_network_security_rule", "azurerm_application_security_group",
                  "azurerm_network_interface_security_group_association",
                  "azurerm_network_interface_application_security_group_association",
                  "azurerm_subnet_network_security_group_association",
                  "azurerm_network_manager_admin_rule",
                  "azurerm_network_manager_admin_rule_collection",
                  "azurerm_network_manager_security_admin_configuration")
# what can decide a packet and is not evaluated: named in a note
UNEVALUATED = ("aws_route_table", "aws_route", "aws_networkfirewall_firewall",
               "aws_networkfirewall_firewall_policy", "aws_networkfirewall_rule_group",
               "aws_vpc_endpoint", "aws_lb", "aws_ec2_transit_gateway_route",
               "azurerm_firewall", "azurerm_firewall_policy",
               "azurerm_firewall_policy_rule_collection_group", "azurerm_route_table",
               "azurerm_route", "azurerm_virtual_hub")


@dataclass
class Review:
    system: str
    forbidden: list[Finding] = field(default_factory=list)
    missing: list[Finding] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    undecided: list[str] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)  # server addresses not in the plan
    notes: list[str] = field(default_factory=list)
    judged: bool = True  # False: none of the system's servers is in the plan
    strict_undecided: bool = True
    strict_absent: bool = False

    @property
    def findings(self) -> int:
        return (len(self.forbidden) + len(self.missing) + len(self.replaced)
                + (len(self.undecided) if self.strict_undecided else 0)
                + (len(self.absent) if self.strict_absent else 0)
                + (0 if self.judged else 1))

    def as_dict(self) -> dict[str, Any]:
        return {
            "system": self.system, "ok": self.findings == 0,
            "forbidden": [{"flow": f.flow, "opened_by": " + ".join(f.rules),
                           "peers": list(f.peers)} for f in self.forbidden],
            "missing": [{"flow": f.flow, "because": " + ".join(f.rules), "peers": list(f.peers)}
                        for f in self.missing],
            "added": self.added, "removed": self.removed, "replaced": self.replaced,
            "undecided": self.undecided, "absent": self.absent, "notes": self.notes,
        }


@dataclass
class _Cloud:
    name: str
    sides: list[Side]
    undecided: list[str]


def _clouds(plan: dict[str, Any], system: System, intent: LinkIntent,
            prior: bool) -> tuple[list[_Cloud], list[str]]:
    """The sides of every server address the plan holds, per cloud; and what the plan does not
    let scadafw follow."""
    found = resources(plan, prior=prior)
    resolver = Resolver(plan, found)
    links = [k for _, k in intent.links]
    own = [(link, intent.own[server.name]) for server, link in intent.links]
    clouds = []
    state, undecided = AwsPlan(found, resolver).state(system, links)
    if state.link_interface or undecided:
        clouds.append(_Cloud("aws", aws_sides(state, own), undecided))
    azure = AzurePlan(found, resolver)
    nics = azure.server_nics(system)
    if nics:
        sides, unknown = azure_sides(azure.judge(system, nics),
                                     [(k, o) for k, o in own if k.server in nics],
                                     named_addresses(intent))
        clouds.append(_Cloud("azure", sides, unknown))
    return clouds, resolver.undecided


def _judge(sides: Sequence[Side], intent: LinkIntent,
           other: dict[tuple[Any, bool], Side]) -> list[Judged]:
    """Each side judged, cut also by the same side's gates in `other` (the other state)."""
    found = []
    for side in sides:
        twin = other.get((side.link, side.inbound))
        found += judge_side(side, intent.scope, intent.of(side.link, side.inbound),
                            twin.gates if twin else ())
    return found


def _changed(now: list[Judged], then: list[Judged], intent: LinkIntent) -> tuple[list[str],
                                                                                list[str]]:
    """Flows the plan adds and removes: what each side admits now against before, class by
    class."""
    before = {(j.link, j.inbound, j.query): j.admitted for j in then}
    added: list[str] = []
    removed: list[str] = []
    for j in now:
        was = before.get((j.link, j.inbound, j.query))
        if was is None:
            continue
        for peers, into in ((j.admitted - was, added), (was - j.admitted, removed)):
            if peers:
                who = describe(peers, intent.parties)
                into.append(f"{who} -> {j.link} {j.query.label}" if j.inbound
                            else f"{j.link} -> {who} {j.query.label}")
    return sorted(set(added)), sorted(set(removed))


def review_plan(plan: dict[str, Any], system: System, allow_undecided: bool = False,
                require_all: bool = False) -> list[Review]:
    """One review per cloud where the plan holds the system's servers (or one saying none)."""
    counts: dict[str, int] = {}
    for r in resources(plan):
        if r.type in FIREWALL_TYPES:
            counts[r.type] = counts.get(r.type, 0) + 1
    found_note = "firewall resources in the plan: " + (", ".join(
        f"{n} {t}" for t, n in sorted(counts.items())) or "none")
    other: dict[str, int] = {}
    for r in resources(plan):
        if r.type in UNEVALUATED:
            other[r.type] = other.get(r.type, 0) + 1
    intent = expand(system)
    clouds, unfollowed = _clouds(plan, system, intent, prior=False)
    before = {c.name: c for c in _clouds(plan, system, intent, prior=True)[0]} \
        if plan.get("prior_state") else {}
    reviews = []
    for cloud in clouds:
        review = Review(f"{system.name} ({cloud.name})", strict_undecided=not allow_undecided,
                        strict_absent=require_all)
        then = before.get(cloud.name)
        then_sides = {(s.link, s.inbound): s for s in then.sides} if then else {}
        now_sides = {(s.link, s.inbound): s for s in cloud.sides}
        classes = _judge(cloud.sides, intent, then_sides)
        judged_links = {s.link for s in cloud.sides}
        review.absent = [f"{k}: no interface in the plan holds this address"
                         for _, k in intent.links if k not in judged_links]
        review.undecided += cloud.undecided
        for finding in findings_of(classes, intent.parties, latent(system, intent, False)):
            if finding.code == FORBIDDEN and not finding.note:
                review.forbidden.append(finding)
            elif finding.code == MISSING:
                review.missing.append(finding)
            elif finding.code == LATENT:
                review.notes.append(f"latent: {finding.message}")
        if then is not None:
            review.added, review.removed = _changed(
                classes, _judge(then.sides, intent, now_sides), intent)
        if cloud.name == "aws":
            review.notes.append("groups attached outside this configuration (an instance's "
                                "launch group) are not in the plan; a server's egress beyond "
                                "the flows is judged as a latent note, its inbound side whole; "
                                "a subnet whose network ACL is not in the plan keeps the one "
                                "it has (the default allows everything)")
        if cloud.name == "azure" and any(r.type == "azurerm_network_manager_admin_rule"
                                         for r in resources(plan)):
            review.notes.append("security admin rules in the plan are judged ahead of every "
                                "server's NSGs (the plan does not say which virtual network a "
                                "NIC is in)")
        reviews.append(review)
    if not reviews:
        review = Review(system.name, judged=False, strict_undecided=not allow_undecided)
        review.notes.append(f"no server of {system.name} was found in the plan: no interface "
                            "there holds one of its addresses")
        reviews.append(review)
    reviews[0].replaced = replacements(plan)
    reviews[0].undecided += [u for u in unfollowed if u not in reviews[0].undecided]
    reviews[0].notes.insert(0, found_note)
    if other:
        reviews[0].notes.insert(1, "not evaluated, though it can decide a packet (routes, "
                                   "firewalls, gateway load balancers): " + ", ".join(
                                       f"{n} {t}" for t, n in sorted(other.items())))
    return reviews


_AWS_RULE_SAME = ("security_group_id", "ip_protocol", "from_port", "to_port", "cidr_ipv4",
                  "cidr_ipv6", "referenced_security_group_id", "prefix_list_id")
_AZURE_RULE_SAME = ("network_security_group_name", "resource_group_name", "direction", "access",
                    "protocol", "destination_port_range", "destination_port_ranges",
                    "source_address_prefix", "source_address_prefixes",
                    "destination_address_prefix", "destination_address_prefixes",
                    "source_application_security_group_ids",
                    "destination_application_security_group_ids")
# What makes two resources the same thing in the cloud, whatever their address: a resource of
# one address deleted and one of another created with these equal is a rename without `moved`.
# The first attribute must be known (a new group's id is not), or nothing is matched.
_SAME = {"aws_network_interface_sg_attachment": ("network_interface_id",),
         "azurerm_network_interface_security_group_association": ("network_interface_id",),
         "azurerm_network_interface_application_security_group_association": (
             "network_interface_id",),
         "aws_vpc_security_group_ingress_rule": _AWS_RULE_SAME,
         "aws_vpc_security_group_egress_rule": _AWS_RULE_SAME,
         "azurerm_network_security_rule": _AZURE_RULE_SAME}


def _hashable(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(sorted(_hashable(v) for v in value))
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    return value


def replacements(plan: dict[str, Any]) -> list[str]:
    """Firewall resources the plan deletes and creates: in place (`-/+`), or under a new
    address as the same thing (a renamed server, client or outstation without a `moved`
    block): while that runs, the flows through it stop."""
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
            key = (kind, tuple(_hashable((side or {}).get(a)) for a in _SAME[kind]))
            if key[1][0] is None:
                continue
            if actions == ["delete"]:
                deleted[key] = change["address"]
            else:
                created.append((key, change["address"]))
    for key, address in created:
        if key in deleted:
            found.append(f"{deleted[key]} -> {address} (deleted and created under a new "
                         "address: add a `moved` block, or give the entry `renamed_from`)")
    return found


def _verdict(r: Review) -> str:
    return ("not judged" if not r.judged else
            "clean" if r.findings == 0 else f"{r.findings} finding(s)")


def as_text(reviews: list[Review]) -> str:
    lines = []
    for r in reviews:
        lines.append(f"{r.system}: {_verdict(r)}")
        lines += [f"  FORBIDDEN  {f.flow}  opened by {' + '.join(f.rules)}" for f in r.forbidden]
        lines += [f"  MISSING    {f.flow}  ({' + '.join(f.rules)})" for f in r.missing]
        lines += [f"  REPLACED   {a}; flows through it stop while it runs" for a in r.replaced]
        lines += [f"  added      {f}" for f in r.added]
        lines += [f"  removed    {f}" for f in r.removed]
        word = "UNDECIDED" if r.strict_undecided else "undecided"
        lines += [f"  {word:10} {u}" for u in r.undecided]
        word = "ABSENT" if r.strict_absent else "absent"
        lines += [f"  {word:10} {a}" for a in r.absent]
        lines += [f"  note       {n}" for n in r.notes]
    return "\n".join(lines) + "\n"


def as_json(reviews: list[Review]) -> str:
    import json  # noqa: PLC0415

    return json.dumps({"ok": all(r.findings == 0 for r in reviews),
                       "systems": [r.as_dict() for r in reviews]}, indent=2) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def as_markdown(reviews: list[Review]) -> str:
    lines = ["<!-- scadafw review -->", "## Geo SCADA firewall review", ""]
    for r in reviews:
        mark = ":white_check_mark:" if r.findings == 0 else ":x:"
        lines += [f"### {mark} `{r.system}`", ""]
        rows = ([("forbidden, opened", f.flow, " + ".join(f.rules)) for f in r.forbidden]
                + [("needed, missing", f.flow, " + ".join(f.rules)) for f in r.missing]
                + [("replaced (outage while it runs)", a, "") for a in r.replaced]
                + [("added", f, "") for f in r.added]
                + [("removed", f, "") for f in r.removed]
                + [("undecided", u, "") for u in r.undecided]
                + ([("absent", a, "") for a in r.absent] if r.strict_absent else []))
        if rows:
            lines += ["| what | flow or resource | by |", "|---|---|---|"]
            lines += [f"| {a} | {_cell(b)} | {_cell(c)} |" for a, b, c in rows]
        else:
            lines.append("Every Geo SCADA flow stays open and nothing forbidden opens.")
        lines += [""] + [f"_{_cell(n)}_" for n in r.notes] + [""]
    return "\n".join(lines).rstrip("\n") + "\n"
