"""How AWS rule resources are named after their port: a server-port rule carries its port
(`..._tcp_5481`), so that during a port migration (`previous_port`) the rules of the two ports
are two resources, and moving on from the old port only deletes its rules, never edits one in
place (docs/design.md, "Moving the server port"). Modules of earlier releases named them
without the port; moves.py moves those names to these."""

from __future__ import annotations

from generator.intent.services import SERVER_PORT, VIEWX

SERVER_PORT_SERVICES = (SERVER_PORT, VIEWX)  # the services on the server port


def port_suffix(port: int) -> str:
    return f"_{port}"
