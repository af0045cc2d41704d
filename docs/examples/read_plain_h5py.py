"""Read a uavtwin trace with nothing but h5py and numpy (uavtwin need not be installed).

Every table is an HDF5 group of equal-length 1-D column datasets; each column carries its
``unit`` and ``description`` attributes, enum columns their ``codes``/``labels``, and the
root holds the run's provenance (status, seed, resolved scenario).

Usage:
    python docs/examples/read_plain_h5py.py TRACE.h5
"""

from __future__ import annotations

import sys

import h5py
import numpy as np


def describe(path: str) -> dict[str, float]:
    """Print the run's provenance and its migration times per hop count; return the means."""
    with h5py.File(path, "r") as f:
        print(f"status={f.attrs['status']} seed={f.attrs['seed']} "
              f"schema={f.attrs['schema_version']}")
        tr = f["migration/transfers"]
        for name in ("t_start_s", "t_end_s", "n_hops"):
            col = tr[name]
            print(f"  {name:10s} [{col.attrs['unit']}] {col.attrs['description']}")
        duration = tr["t_end_s"][:] - tr["t_start_s"][:]
        hops = tr["n_hops"][:]
        means = {}
        for h in np.unique(hops):
            means[f"{int(h)} hops"] = float(duration[hops == h].mean())
            print(f"  {int(h)} hop(s): {np.sum(hops == h):5d} transfers, "
                  f"mean {means[f'{int(h)} hops']:.3f} s")
        kind = f["coverage/events/kind"]
        labels = dict(zip(kind.attrs["codes"].tolist(),
                          [s.decode() if isinstance(s, bytes) else str(s)
                           for s in kind.attrs["labels"]], strict=True))
        counts = np.bincount(kind[:], minlength=2)
        print("  coverage events: " + ", ".join(f"{labels[c]} {counts[c]}" for c in labels))
    return means


if __name__ == "__main__":
    describe(sys.argv[1])
