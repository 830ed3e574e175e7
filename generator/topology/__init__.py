"""Reading a topology file (versions 1 and 2) into the model, every problem reported at once
as FILE:LINE:COL: YAML with positions (`yaml_source`), the keys of both versions (`read`, the
servers; `peers`, clients, outstations, monitors and networks; `options`, renames and Azure
placement), and what is found on the flows once every key is sound (`overlaps`)."""

from generator.topology.read import load_topology, parse_topology

__all__ = ["load_topology", "parse_topology"]
