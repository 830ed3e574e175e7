"""A stand-in for Azure Resource Manager on 127.0.0.1, reached by azure-mgmt-network's real HTTP
pipeline: HTTPS with a test CA (the SDK refuses bearer tokens over plain HTTP), ARM-shaped JSON
bodies, `nextLink` paging, and a fake managed identity endpoint (App Service style: the
IDENTITY_ENDPOINT and IDENTITY_HEADER variables) for DefaultAzureCredential.

`deploy` fills it the way `terraform apply` of an emitted Azure module would: the module's
NSGs (read from its .tf files with python-hcl2, rules as verify builds them), ASGs, and one NIC
per server at its topology addresses, associated as the module's association resources say.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from generator.judge.azure import DEFAULT_RULES
from generator.model import System
from generator.sources.azure_module import build_nsgs
from generator.sources.hcl_module import read_module

SUBSCRIPTION = "00000000-0000-0000-0000-00000000a0d1"
GROUP = "scada-rg"
NET = "/providers/Microsoft.Network"
PAGE = 2  # NICs per page: the listing is always paged, as ARM pages long lists


def rg_path(group: str = GROUP) -> str:
    return f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{group}"


def test_ca(folder: Path) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for 127.0.0.1 signed by it: (ca, cert, key) PEM files."""
    now = datetime.datetime.now(datetime.UTC)

    def build(subject: str, issuer: x509.Name | None, key: Any, sign_key: Any,
              ca: bool) -> x509.Certificate:
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
        builder = (x509.CertificateBuilder().subject_name(name).issuer_name(issuer or name)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(minutes=5))
                   .not_valid_after(now + datetime.timedelta(days=1))
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if not ca:
            builder = builder.add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        return builder.sign(sign_key, hashes.SHA256())

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_cert = build("scadafw test CA", None, ca_key, ca_key, True)
    cert = build("127.0.0.1", ca_cert.subject, key, ca_key, False)
    paths = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    paths[0].write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths


@dataclass
class Arm:
    """What the fake ARM holds: resources by lowercased path, list members, injected failures."""

    url: str = ""
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    lists: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    failures: dict[str, tuple[int, str]] = field(default_factory=dict)  # path -> status, code
    requests: list[str] = field(default_factory=list)
    # virtual network path -> its effective security admin rules (Virtual Network Manager)
    admin: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def reset(self) -> None:
        self.resources.clear()
        self.lists.clear()
        self.failures.clear()
        self.requests.clear()
        self.admin.clear()

    def admin_rules(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """POST .../virtualNetworks/V/listNetworkManagerEffectiveSecurityAdminRules, paged
        PAGE rules at a time by `skipToken`."""
        vnet = path.lower().rsplit("/", 1)[0]
        self.requests.append(path.lower())
        items = self.admin.get(vnet, [])
        start = int(body.get("skipToken") or 0)
        answer: dict[str, Any] = {"value": items[start:start + PAGE]}
        if start + PAGE < len(items):
            answer["skipToken"] = str(start + PAGE)
        return 200, answer

    def put(self, resource: dict[str, Any], listed_in: str | None = None) -> None:
        self.resources[resource["id"].lower()] = resource
        if listed_in:
            self.lists.setdefault(listed_in.lower(), []).append(resource)

    def nsg(self, name: str) -> dict[str, Any]:
        return self.resources[f"{rg_path()}{NET}/networkSecurityGroups/{name}".lower()]

    def nic(self, server: str) -> dict[str, Any]:
        return self.resources[f"{rg_path()}{NET}/networkInterfaces/{server}-nic".lower()]

    def answer(self, path: str, query: str) -> tuple[int, dict[str, Any]]:
        key = path.lower().rstrip("/")
        self.requests.append(key)
        for failing, (status, code) in self.failures.items():
            if key.startswith(failing.lower()):
                return status, {"error": {"code": code, "message": f"{code} (fake ARM)"}}
        if key in self.resources:
            return 200, self.resources[key]
        if key in self.lists:
            items = self.lists[key]
            start = int(dict(p.split("=", 1) for p in query.split("&") if "=" in p)
                        .get("$skiptoken", "0"))
            body: dict[str, Any] = {"value": items[start:start + PAGE]}
            if start + PAGE < len(items):
                body["nextLink"] = (f"{self.url}{path}?api-version=2026-03-01"
                                    f"&$skiptoken={start + PAGE}")
            return 200, body
        if "/resourcegroups/" in key and not key.startswith(rg_path().lower()):
            return 404, {"error": {"code": "ResourceGroupNotFound",
                                   "message": "Resource group could not be found."}}
        return 404, {"error": {"code": "ResourceNotFound", "message": f"{path} not found"}}


def _handler(arm: Arm) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            if not self.headers.get("Authorization", "").startswith("Bearer "):
                status, body = 401, {"error": {"code": "AuthenticationFailed",
                                               "message": "no bearer token"}}
            else:
                status, body = arm.answer(parts.path, parts.query)
            self._send(status, body)

        def do_POST(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            sent = json.loads(self.rfile.read(length) or b"{}") if length else {}
            if not self.headers.get("Authorization", "").startswith("Bearer "):
                self._send(401, {"error": {"code": "AuthenticationFailed",
                                           "message": "no bearer token"}})
            elif parts.path.lower().endswith("/listnetworkmanagereffectivesecurityadminrules"):
                self._send(*arm.admin_rules(parts.path, sent))
            else:
                self._send(404, {"error": {"code": "ResourceNotFound", "message": parts.path}})

        def _send(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_: Any) -> None:
            pass

    return Handler


class IdentityHandler(BaseHTTPRequestHandler):
    """App Service managed identity (api-version 2019-08-01): a token for any resource."""

    def do_GET(self) -> None:
        body = json.dumps({"access_token": "fake-token", "token_type": "Bearer",
                           "expires_on": str(int(time.time()) + 3600),
                           "resource": "https://management.azure.com"}).encode()
        self.send_response(200 if self.headers.get("X-IDENTITY-HEADER") else 400)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: Any) -> None:
        pass


def serve(folder: Path) -> tuple[Arm, str, str, list[ThreadingHTTPServer]]:
    """Start the ARM and identity endpoints: (arm, CA bundle path, identity URL, servers)."""
    ca, cert, key = test_ca(folder)
    arm = Arm()
    https = ThreadingHTTPServer(("127.0.0.1", 0), _handler(arm))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    https.socket = context.wrap_socket(https.socket, server_side=True)
    arm.url = f"https://127.0.0.1:{https.server_address[1]}"
    identity = ThreadingHTTPServer(("127.0.0.1", 0), IdentityHandler)
    for server in (https, identity):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    return arm, str(ca), f"http://127.0.0.1:{identity.server_address[1]}/msi/token", [
        https, identity]


def _arm_id(kind: str, name: str) -> str:
    return f"{rg_path()}{NET}/{kind}/{name}"


def nsg_body(name: str, rules: list[dict[str, Any]], tags: dict[str, str]) -> dict[str, Any]:
    nsg_id = _arm_id("networkSecurityGroups", name)
    for rule in rules:
        rule["id"] = f"{nsg_id}/securityRules/{rule['name']}"
    defaults = [r.as_dict() for r in DEFAULT_RULES]
    return {"id": nsg_id, "name": name, "type": "Microsoft.Network/networkSecurityGroups",
            "location": "westeurope", "tags": tags,
            "properties": {"securityRules": rules, "defaultSecurityRules": defaults,
                           "provisioningState": "Succeeded"}}


def deploy(arm: Arm, system: System, module_folder: Path) -> None:
    """The emitted Azure module as `terraform apply` would leave it, beside the servers' NICs
    in one virtual network subnet (without an NSG of its own)."""
    module = read_module(module_folder)
    state = build_nsgs(module)
    group_path = rg_path() + NET
    prefix = f"{system.resource_name}-"  # the module's default name_prefix

    def named(resource_type: str) -> dict[str, str]:
        return {r.name: str(r.attrs["name"]).replace("${var.name_prefix}", prefix)
                for r in module.of_type(resource_type)}

    names = named("azurerm_network_security_group")
    asg_names = named("azurerm_application_security_group")

    def tags(role: str) -> dict[str, str]:
        return {"scadafw:system": system.name, "scadafw:role-group": role}

    for role, asg_name in asg_names.items():
        arm.put({"id": _arm_id("applicationSecurityGroups", asg_name), "name": asg_name,
                 "location": "westeurope", "tags": tags(role), "properties": {}},
                f"{group_path}/applicationSecurityGroups")
    for role, nsg in state.nsgs.items():
        rules = []
        for rule in nsg.properties.security_rules:  # type: ignore[union-attr]
            body = rule.as_dict()
            for end in ("source", "destination"):
                for ref in body.get("properties", {}).get(f"{end}ApplicationSecurityGroups", []):
                    ref["id"] = _arm_id("applicationSecurityGroups",
                                        asg_names[ref["id"].removeprefix("asg/")])
            rules.append(body)
        arm.put(nsg_body(names[role], rules, tags(role)))
    subnet_id = f"{_arm_id('virtualNetworks', 'plant-vnet')}/subnets/servers"
    arm.put({"id": subnet_id, "name": "servers", "properties": {"addressPrefix": "10.0.0.0/8"}})
    for server in system.servers:
        configs = [{"name": f"ipconfig{i}", "properties": {
            "privateIPAddress": str(address), "subnet": {"id": subnet_id},
            "applicationSecurityGroups": [
                {"id": _arm_id("applicationSecurityGroups", asg_names[a.removeprefix("asg/")])}
                for a in sorted(state.asgs_of.get(server.name, set()))]}}
            for i, address in enumerate(a for a in server.addresses if a.version == 4)]
        nic: dict[str, Any] = {"id": _arm_id("networkInterfaces", f"{server.name}-nic"),
                               "name": f"{server.name}-nic", "location": "westeurope",
                               "properties": {"ipConfigurations": configs}}
        for nsg_role in state.nic_nsgs.get(server.name, []):
            nic["properties"]["networkSecurityGroup"] = {
                "id": _arm_id("networkSecurityGroups", names[nsg_role])}
        arm.put(nic, f"{group_path}/networkInterfaces")
