"""Mobility files in and out: one module per format (ns-2, BonnMotion, SUMO FCD, GPX, the
uavtwin CSV), the breakpoint tracks they all read into (:mod:`.tracks`), the map projection
for geographic input (:mod:`.geo`) and the registry that names them (:mod:`.registry`).

Public entry points: ``read_ns2``/``write_ns2`` (:mod:`.ns2`), ``read_bonnmotion``/
``write_bonnmotion`` (:mod:`.bonnmotion`), ``read_fcd`` (:mod:`.sumo_fcd`), ``read_gpx``
(:mod:`.gpx`), ``read_csv``/``write_csv_rows`` (:mod:`.trace_csv`), and
:func:`.registry.open_rows` for any of them by name. docs/mobility.md has the semantics.
"""
