"""The intent: what a Geo SCADA system needs to cross the firewall, as data.

`services` writes each service's protocol and ports once; `matrix` holds the two flow matrices
(between servers, and between servers and everything else); `flows` expands them into one flow
type for one module's view of a system; `links` expands flows to addresses for the judge.
"""
