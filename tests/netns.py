"""A router and its parties in Linux network namespaces, for real packets through a rendered
perimeter (tests/test_packets.py).

Each party is a namespace of its own, joined to the router's namespace by a veth pair: the
party holds its addresses on its end and a default route to the router (169.254.1.1 on every
veth, as routed container networks do); the router holds a host route to each party,
forwards, and filters with the rules loaded by `iptables-restore`. Probes run in forked
children that enter a party's namespace (setns), so a TCP connect, a UDP exchange or an ICMP
echo is a real packet through the router. Traffic never leaves the namespaces made here, and
`close` removes them all.
"""

from __future__ import annotations

import ctypes
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

CLONE_NEWNET = 0x40000000
TIMEOUT = 0.6  # seconds a probe waits for an answer through the router
GATEWAY = "169.254.1.1"  # the router's address on every veth: each party's next hop


def why_not() -> str | None:
    """Why namespaces and iptables cannot be used here, or None when they can."""
    if os.geteuid() != 0:
        return "real-packet tests need root (network namespaces, veth pairs, iptables)"
    for tool in ("ip", "iptables-restore"):
        if shutil.which(tool) is None:
            return f"real-packet tests need `{tool}` (Debian: iproute2, iptables)"
    name = f"sfwprobe{os.getpid() % 10000}"
    made = subprocess.run(["ip", "netns", "add", name], capture_output=True, text=True,
                          check=False)
    if made.returncode != 0:
        return f"cannot make a network namespace here: {made.stderr.strip()}"
    try:
        loaded = subprocess.run(["ip", "netns", "exec", name, "iptables-restore"],
                                input="*filter\n:FORWARD DROP [0:0]\nCOMMIT\n",
                                capture_output=True, text=True, check=False)
        if loaded.returncode != 0:
            return f"iptables-restore fails in a namespace: {loaded.stderr.strip()}"
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True, check=False)
    return None


def restore_input(rendered: str) -> str:
    """aerleon's iptables rendering (`-P`, `-N`, `-A` lines, one iptables command each) as
    `iptables-restore` input for the filter table."""
    policies, chains, rules = [], [], []
    for line in rendered.splitlines():
        if line.startswith("-P "):
            _, chain, target = line.split()
            policies.append(f":{chain} {target} [0:0]")
        elif line.startswith("-N "):
            chains.append(f":{line.split()[1]} - [0:0]")
        elif line.startswith("-A "):
            rules.append(line)
        elif line.strip() and not line.startswith("#"):
            raise ValueError(f"not an iptables line aerleon writes: {line!r}")
    return "\n".join(["*filter", *policies, *chains, *rules, "COMMIT", ""])


def _run(*args: str) -> None:
    subprocess.run(list(args), check=True, capture_output=True)


class Lab:
    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.router = f"{tag}r"
        self.parties: dict[str, list[str]] = {}  # namespace -> addresses
        self.listeners: list[int] = []
        self.made: list[str] = []
        _run("ip", "netns", "add", self.router)
        self.made.append(self.router)
        self._sysctl(self.router, "net.ipv4.ip_forward", "1")
        self._sysctl(self.router, "net.ipv4.conf.all.rp_filter", "0")

    def __enter__(self) -> Lab:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @staticmethod
    def _sysctl(ns: str, key: str, value: str) -> None:
        _run("ip", "netns", "exec", ns, "sysctl", "-qw", f"{key}={value}")

    def party(self, addresses: list[str]) -> str:
        """A namespace holding `addresses` (IPv4 hosts), joined to the router."""
        index = len(self.parties)
        ns, near, far = f"{self.tag}p{index}", f"{self.tag}a{index}", f"{self.tag}b{index}"
        _run("ip", "netns", "add", ns)
        self.made.append(ns)
        _run("ip", "link", "add", near, "netns", self.router, "type", "veth", "peer", "name",
             far, "netns", ns)
        _run("ip", "-n", ns, "link", "set", "lo", "up")
        _run("ip", "-n", ns, "link", "set", far, "up")
        _run("ip", "-n", self.router, "link", "set", near, "up")
        _run("ip", "-n", self.router, "addr", "add", f"{GATEWAY}/32", "dev", near)
        self._sysctl(self.router, f"net.ipv4.conf.{near}.rp_filter", "0")
        for address in addresses:
            _run("ip", "-n", ns, "addr", "add", f"{address}/32", "dev", far)
            _run("ip", "-n", self.router, "route", "add", f"{address}/32", "dev", near)
        _run("ip", "-n", ns, "route", "add", "default", "via", GATEWAY, "dev", far, "onlink")
        self.parties[ns] = addresses
        return ns

    def load(self, rendered: str) -> None:
        subprocess.run(["ip", "netns", "exec", self.router, "iptables-restore"],
                       input=restore_input(rendered), check=True, capture_output=True,
                       text=True)

    def listen(self, ns: str, tcp: list[int], udp: list[int]) -> None:
        """Accept TCP connections and echo UDP datagrams on every address of `ns`."""
        ready_r, ready_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            try:
                _enter(ns)
                sockets = []
                for port in tcp:
                    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    s.bind(("0.0.0.0", port))
                    s.listen(64)
                    sockets.append(s)
                for port in udp:
                    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    s.bind(("0.0.0.0", port))
                    sockets.append(s)
                os.write(ready_w, b"1")
                while True:
                    readable, _, _ = select.select(sockets, [], [])
                    for s in readable:
                        if s.type == socket.SOCK_STREAM:
                            conn, _ = s.accept()
                            conn.close()
                        else:
                            data, peer = s.recvfrom(64)
                            s.sendto(data, peer)
            finally:
                os._exit(0)
        os.close(ready_w)
        os.read(ready_r, 1)
        os.close(ready_r)
        self.listeners.append(pid)

    def probe_all(self, probes: list[tuple[str, str, str, str, int]]) -> list[bool]:
        """Each (namespace, source address, destination, protocol, port) sent at once, each
        from a forked child; whether an answer came back through the router."""
        children = []
        for ns, source, destination, protocol, port in probes:
            pid = os.fork()
            if pid == 0:  # pragma: no cover - the child
                ok = False
                try:
                    _enter(ns)
                    ok = PROBES[protocol](source, destination, port)
                finally:
                    os._exit(0 if ok else 1)
            children.append(pid)
        return [os.waitpid(pid, 0)[1] == 0 for pid in children]

    def close(self) -> None:
        for pid in self.listeners:
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        for ns in reversed(self.made):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, check=False)
        self.made.clear()


def _enter(ns: str) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(str(Path("/var/run/netns") / ns), os.O_RDONLY)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    os.close(fd)


def _tcp(source: str, destination: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((source, 0))
        s.settimeout(TIMEOUT)
        try:
            s.connect((destination, port))
        except OSError:
            return False
        return True


def _udp(source: str, destination: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((source, 0))
        s.settimeout(TIMEOUT)
        s.sendto(b"geo-scada", (destination, port))
        try:
            return s.recvfrom(64)[0] == b"geo-scada"
        except OSError:
            return False


def _checksum(data: bytes) -> int:
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    return ~(total + (total >> 16)) & 0xFFFF


def _icmp(source: str, destination: str, _port: int) -> bool:
    ident = os.getpid() & 0xFFFF
    header = struct.pack("!BBHHH", 8, 0, 0, ident, 1)
    payload = b"geo-scada-poll"
    packet = struct.pack("!BBHHH", 8, 0, _checksum(header + payload), ident, 1) + payload
    with socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP) as s:
        s.bind((source, 0))
        s.sendto(packet, (destination, 0))
        deadline = time.monotonic() + TIMEOUT
        while (left := deadline - time.monotonic()) > 0:
            readable, _, _ = select.select([s], [], [], left)
            if not readable:
                return False
            data, peer = s.recvfrom(1024)
            offset = (data[0] & 0x0F) * 4
            kind, _, _, got, _ = struct.unpack("!BBHHH", data[offset:offset + 8])
            if peer[0] == destination and kind == 0 and got == ident:
                return True
    return False


PROBES: dict[str, Callable[[str, str, int], bool]] = {"tcp": _tcp, "udp": _udp, "icmp": _icmp}
