"""DOMAIN.md's flow matrix, transcribed for the tests independently of generator/policy.py.

"A -> B": A opens the connection / sends the echo request. Roles, not groups: the table below
is the matrix of DOMAIN.md with "redundant" spelled out as main and standby.
"""

from __future__ import annotations

REDUNDANT = ("main", "standby")
PERMANENT = "permanent_standby"
DMZ = "dmz_permanent_standby"
ROLES = (*REDUNDANT, PERMANENT, DMZ)

# (from role, to role): True where DOMAIN.md allows "TCP port + ICMP echo".
_MATRIX: dict[tuple[str, str], bool] = {}
for _a in ROLES:
    for _b in ROLES:
        if _a in REDUNDANT:
            # redundant -> redundant, permanent_standby, dmz: TCP port + ICMP echo
            _MATRIX[(_a, _b)] = True
        elif _a == PERMANENT:
            # permanent_standby -> redundant only; none to another permanent or to the DMZ
            _MATRIX[(_a, _b)] = _b in REDUNDANT
        else:
            # dmz_permanent_standby -> nothing, ever (item 5)
            _MATRIX[(_a, _b)] = False


def domain_allows(src_role: str, dst_role: str) -> bool:
    """Whether DOMAIN.md allows the server port and ICMP echo from src to dst."""
    return _MATRIX[(src_role, dst_role)]
