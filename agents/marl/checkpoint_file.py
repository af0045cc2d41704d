"""The agent checkpoint file, read and checked without torch.

A checkpoint is what ``torch.save`` writes for a plain ``dict`` (see
:mod:`agents.marl.checkpoint`): a zip archive holding ``<name>/data.pkl`` (a pickle of the
dict, protocol 2), one ``<name>/data/<key>`` record of raw little- or big-endian numbers per
tensor storage, and ``<name>/byteorder``. Its tensors appear in the pickle as calls of
``torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks)``
on storages named by persistent ids ``("storage", torch.FloatStorage, key, device, numel)``.

:func:`read_checkpoint` unpickles ``data.pkl`` with an unpickler that resolves exactly those
names (plus ``collections.OrderedDict``) and refuses every other global, so no code in a file
can ever run; tensors come back as NumPy arrays. It is stricter than
``torch.load(weights_only=True)`` and needs no torch, which keeps ``uavtwin validate`` fast.
:func:`check_payload` is the one validation of a checkpoint's contents (format marker,
version, layout, tensor shapes and values): the run and ``validate`` both go through it.
Every problem becomes one ``ValueError`` line that names the file.
"""

from __future__ import annotations

import collections
import io
import math
import pickle
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from agents.marl.layout import n_features as layout_width

__all__ = ["DEFAULT_CHECKPOINTS", "FORMAT", "MAX_RECORD_BYTES", "VERSION", "CheckpointContents",
           "check_payload", "fail", "inspect_checkpoint", "read_checkpoint"]

FORMAT = "uavtwin-pricing-agents"
VERSION = 1
#: Largest pickle or tensor record read from a checkpoint (bytes). A shipped checkpoint is a
#: few kB; the bound keeps a crafted archive from claiming gigabytes.
MAX_RECORD_BYTES = 64 * 2**20

_REPO_ROOT = Path(__file__).resolve().parents[2]
#: The shipped agents of each learned solver, used when a scenario names no checkpoint.
DEFAULT_CHECKPOINTS = {
    "tiny_madrl": _REPO_ROOT / "scenarios" / "agents" / "tiny-madrl.pt",
    "ppo": _REPO_ROOT / "scenarios" / "agents" / "ppo.pt",
}

#: torch storage class name -> NumPy dtype of its elements.
_STORAGES = {
    "FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
    "LongStorage": np.int64, "IntStorage": np.int32, "ShortStorage": np.int16,
    "CharStorage": np.int8, "ByteStorage": np.uint8, "BoolStorage": np.bool_,
}


@dataclass(frozen=True)
class CheckpointContents:
    """A checkpoint's validated contents, tensors as NumPy arrays.

    The fields are those of :class:`agents.marl.checkpoint.AgentCheckpoint`, except that the
    actor is kept as data, not yet as a network:

    Attributes:
        actor_sizes: layer widths of the compact actor, observation width first, 1 last.
        actor_state: ``"{layer}.weight"`` ``[out, in]`` and ``"{layer}.bias"`` ``[out]``.
    """

    name: str
    actor_sizes: list[int]
    actor_state: dict[str, np.ndarray]
    history: int
    n_features: int
    log_std: float
    dense_actor_parameters: int
    config: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)


def fail(path: Path, msg: str) -> ValueError:
    """The one-line error of an unusable checkpoint ``path``."""
    return ValueError(f"{path}: not a valid uavtwin agent checkpoint: {msg}")


class _Storage:
    """A storage class named in the pickle (``torch.FloatStorage`` ...)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.dtype = np.dtype(_STORAGES[name])


def _rebuild_tensor(storage: np.ndarray, offset: int, size: tuple, stride: tuple,
                    *_rest: Any) -> np.ndarray:
    """``torch._utils._rebuild_tensor_v2`` for NumPy: a copy of the strided view."""
    ints = (offset, *size, *stride)
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in ints) \
            or len(size) != len(stride):
        raise ValueError(f"bad tensor layout (offset {offset}, size {size}, stride {stride})")
    if all(size):
        last = offset + sum((n - 1) * s for n, s in zip(size, stride, strict=True))
        if last >= storage.size:
            raise ValueError(f"tensor of size {size} overruns its storage of {storage.size}")
    elif offset > storage.size:
        raise ValueError(f"tensor offset {offset} beyond its storage of {storage.size}")
    step = storage.itemsize
    view = np.lib.stride_tricks.as_strided(storage[offset:], shape=tuple(size),
                                           strides=tuple(s * step for s in stride))
    return np.array(view)


class _Unpickler(pickle.Unpickler):
    """Resolves tensors, storages and ``OrderedDict``; refuses every other global."""

    def __init__(self, data: bytes, archive: zipfile.ZipFile, prefix: str, order: str) -> None:
        super().__init__(io.BytesIO(data))
        self.archive, self.prefix, self.order = archive, prefix, order

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if module == "torch" and name in _STORAGES:
            return _Storage(name)
        raise pickle.UnpicklingError(f"refused global {module}.{name}")

    def persistent_load(self, pid: Any) -> np.ndarray:
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"
                and isinstance(pid[1], _Storage) and isinstance(pid[4], int)):
            raise pickle.UnpicklingError(f"unknown persistent id {str(pid)[:60]}")
        dtype = pid[1].dtype.newbyteorder("<" if self.order == "little" else ">")
        record = f"{self.prefix}/data/{pid[2]}"
        try:
            info = self.archive.getinfo(record)
        except KeyError:
            raise pickle.UnpicklingError(f"missing storage record {record}") from None
        if info.file_size != pid[4] * dtype.itemsize or info.file_size > MAX_RECORD_BYTES:
            raise pickle.UnpicklingError(
                f"storage record {record} has {info.file_size} bytes, expected "
                f"{pid[4]} x {dtype.itemsize}")
        return np.frombuffer(self.archive.read(record), dtype=dtype).astype(dtype.newbyteorder("="))


def read_checkpoint(path: str | Path) -> Any:
    """Unpickle a checkpoint file without torch (tensors become NumPy arrays).

    Args:
        path: a file written by ``torch.save`` (zip format).

    Returns:
        The saved object (for a uavtwin checkpoint, a dict; see :func:`check_payload`).

    Raises:
        ValueError: one line naming the file: missing, not a zip archive, no ``data.pkl``,
            a global other than tensors and storages, or a corrupt record.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: agent checkpoint file not found")
    try:
        with zipfile.ZipFile(path) as archive:
            pickles = [n for n in archive.namelist() if n.endswith("/data.pkl")]
            if len(pickles) != 1:
                raise fail(path, "no data.pkl record (not a file written by torch.save)")
            prefix = pickles[0][: -len("/data.pkl")]
            info = archive.getinfo(pickles[0])
            if info.file_size > MAX_RECORD_BYTES:
                raise fail(path, f"data.pkl of {info.file_size} bytes")
            try:
                order = archive.read(f"{prefix}/byteorder").decode("ascii").strip()
            except KeyError:
                order = "little"
            if order not in ("little", "big"):
                raise fail(path, f"byte order {order[:20]!r}")
            return _Unpickler(archive.read(pickles[0]), archive, prefix, order).load()
    except ValueError as err:
        if str(err).startswith(str(path)):
            raise
        raise fail(path, f"cannot read it ({err})") from None
    except Exception as err:  # zipfile, zlib and pickle raise many types for corrupt files
        first = (str(err).strip().splitlines() or [""])[0][:160]
        raise fail(path, f"cannot read it ({type(err).__name__}: {first})") from None


def _get(payload: dict[str, Any], key: str, kind: type | tuple[type, ...], path: Path) -> Any:
    if key not in payload:
        raise fail(path, f"missing key '{key}'")
    value = payload[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise fail(path, f"key '{key}' has type {type(value).__name__}")
    return value


def check_payload(payload: Any, path: str | Path) -> CheckpointContents:
    """Validate what a checkpoint file holds, before any network is built from it.

    Args:
        payload: the unpickled object, tensors as NumPy arrays.
        path: the file (for messages).

    Returns:
        The contents, every tensor's shape matching ``actor_sizes`` and every value finite.

    Raises:
        ValueError: one line naming the file: foreign file, another format version, a missing
            or mistyped key, an inconsistent layout, or wrong or non-finite weights.
    """
    path = Path(path)
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise fail(path, f"no '{FORMAT}' format marker (foreign file)")
    version = payload.get("version")
    if version != VERSION:
        raise fail(path, f"format version {version!r}, this code reads {VERSION}")
    name = _get(payload, "name", str, path)
    sizes = _get(payload, "actor_sizes", list, path)
    if len(sizes) < 2 or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 1
                                 for s in sizes):
        raise fail(path, f"bad actor_sizes {sizes!r}")
    state = _get(payload, "actor_state", dict, path)
    history = _get(payload, "history", int, path)
    n_features = _get(payload, "n_features", int, path)
    log_std = float(_get(payload, "log_std", (int, float), path))
    dense = _get(payload, "dense_actor_parameters", int, path)
    if history < 1 or n_features != layout_width(history) or n_features != sizes[0] \
            or sizes[-1] != 1:
        raise fail(path, f"inconsistent layout: n_features={n_features}, history={history}, "
                         f"actor_sizes={sizes}")
    expected = {f"{k}.{part}" for k in range(len(sizes) - 1) for part in ("weight", "bias")}
    if set(state) != expected:
        raise fail(path, f"actor_state keys {sorted(state)} != {sorted(expected)}")
    # the stored arrays must match actor_sizes *before* a network of that size is built:
    # sizes like [13, 1e9, 1] would otherwise allocate gigabytes for a file of a few bytes
    for k in range(len(sizes) - 1):
        for part, shape in (("weight", (sizes[k + 1], sizes[k])), ("bias", (sizes[k + 1],))):
            array = state[f"{k}.{part}"]
            if not isinstance(array, np.ndarray) or array.shape != shape:
                got = array.shape if isinstance(array, np.ndarray) else None
                raise fail(path, f"actor_state {k}.{part} has shape {got}, expected {shape}")
            if array.dtype.kind != "f" or not np.isfinite(array).all():
                raise fail(path, f"actor_state {k}.{part} has non-finite or non-float values")
    if not math.isfinite(log_std):
        raise fail(path, f"log_std is {log_std}")
    extras = {key: payload.get(key) or {} for key in ("config", "summary")}
    for key, value in extras.items():
        if not isinstance(value, dict):
            raise fail(path, f"key '{key}' has type {type(value).__name__}")
    return CheckpointContents(
        name=name, actor_sizes=list(sizes), actor_state=dict(state), history=history,
        n_features=n_features, log_std=log_std, dense_actor_parameters=dense,
        config=dict(extras["config"]), summary=dict(extras["summary"]))


def inspect_checkpoint(path: str | Path) -> CheckpointContents:
    """Read and validate a checkpoint file without torch (what ``uavtwin validate`` does).

    Raises:
        ValueError: one line naming the file (see :func:`read_checkpoint` and
            :func:`check_payload`).
    """
    return check_payload(read_checkpoint(path), path)
