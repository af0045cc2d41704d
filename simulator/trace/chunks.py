"""Chunk-aligned streaming of trace rows into HDF5, compressed off the main thread.

Every column dataset of a trace is chunked by :data:`~simulator.trace.buffer.CHUNK_ROWS`
rows. A :class:`TableStream` cuts a table's rows, as they arrive, into those chunks; the
rows of one chunk in every column of the table are one :class:`ChunkJob`, so a table's
columns always reach the file together and keep equal lengths.

With gzip compression a job's columns are encoded the way HDF5's filter pipeline would
encode them (the byte shuffle, then deflate at level 1: :func:`gzip_chunk`) on a worker
thread (zlib releases the interpreter lock while it compresses), and the main thread writes
the finished chunks into the file with ``write_direct_chunk``, in the order the jobs were
made, as soon as they are ready. HDF5 reads them back through each dataset's declared
filters, so the file is an ordinary one. The compression, most of the trace's cost, runs on
the machine's other core while the simulation goes on. When the main thread has to wait for
a chunk (at a flush, or when too many are queued) it encodes the newest chunks that the
worker has not started instead of waiting idle; a flush at the end of a small run is mostly
such chunks.

Rows that do not fill a chunk yet (a table's *tail*) stay in memory until a flush writes
them as a chunk padded with zeros (HDF5's fill value); the chunk is written again once more
rows complete it. A chunk's final bytes therefore depend only on its rows, never on when
flushes happened. Other compressions (``lzf``, ``none``) are written through h5py at once,
chunk by chunk, and HDF5 applies their filters itself.
"""

from __future__ import annotations

import zlib
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import h5py
import numpy as np

from simulator.trace.buffer import CHUNK_ROWS
from simulator.trace.schema import Table

__all__ = ["GZIP_LEVEL", "ChunkJob", "ChunkQueue", "TableStream", "gzip_chunk"]

GZIP_LEVEL = 1
"""Deflate level of gzip traces (level 1, not 4: on the benchmark world's 100-UAV hour it
compresses in about 0.07 s of CPU instead of 0.12 s, for a file 1 % larger; the byte shuffle
does most of the work)."""

#: Threads that compress chunks while the main thread simulates. One is enough (a 10,000-UAV
#: hour's chunks take it about 11 s of CPU in a 200 s run) and leaves a 2-core machine's
#: second core to it alone; whenever the main thread would wait for it (a flush, or
#: :data:`MAX_QUEUED` chunks behind) the main thread encodes chunks too.
WORKERS = 1

#: Chunks that may wait for their encoding before the main thread catches up with them (so
#: that memory stays bounded on a machine whose worker falls behind).
MAX_QUEUED = 64


def gzip_chunk(columns: list[np.ndarray]) -> list[bytes]:
    """Each column's chunk as HDF5's shuffle and deflate filters store it.

    The shuffle filter stores byte ``j`` of every element before byte ``j + 1`` of any
    (nothing to do for one-byte types); deflate is zlib's format at :data:`GZIP_LEVEL`. A
    column of fewer than :data:`CHUNK_ROWS` values (a table's tail) is padded with zeros,
    HDF5's fill value: the shuffled bytes are made in one zeroed buffer, the values copied
    into the start of each byte plane.

    Args:
        columns: The chunk's values, one array of at most :data:`CHUNK_ROWS` per column.

    Returns:
        The stored bytes of each column's chunk.
    """
    out = []
    for values in columns:
        size, n = values.dtype.itemsize, len(values)
        if size == 1 and n == CHUNK_ROWS:
            raw: bytes | bytearray = values.tobytes()
        else:
            raw = bytearray(size * CHUNK_ROWS)
            planes = np.frombuffer(raw, np.uint8).reshape(size, CHUNK_ROWS)
            planes[:, :n] = np.ascontiguousarray(values).view(np.uint8).reshape(n, size).T
        out.append(zlib.compress(raw, GZIP_LEVEL))
    return out


@dataclass(slots=True)
class ChunkJob:
    """Rows ``[k * CHUNK_ROWS, k * CHUNK_ROWS + n)`` of every column of one table.

    ``columns`` hold the chunk's ``n`` values; ``encoded`` is their encoding by a worker
    (or by the main thread, see :meth:`ChunkQueue.write_all`; None: written through h5py).
    """

    stream: TableStream
    k: int
    n: int
    columns: list[np.ndarray]
    encoded: Future[list[bytes]] | None

    @property
    def end(self) -> int:
        """The row after the job's last row."""
        return self.k * CHUNK_ROWS + self.n

    def encoded_now(self) -> list[bytes] | None:
        """The encoded chunks, waiting for the worker if needed; encoded here if the worker
        never ran the job (its pool was shut down) or failed. None: written through h5py."""
        if self.encoded is None:
            return None
        if not self.encoded.cancelled():
            try:
                return self.encoded.result()
            except Exception:  # the worker failed: encode here, and raise here if it must
                pass
        return gzip_chunk(self.columns)


class TableStream:
    """One table's rows on their way into whole chunks of its column datasets.

    Args:
        table: The table's schema.
        datasets: Its column datasets in the open trace file, in column order.
    """

    __slots__ = ("table", "datasets", "tail", "tail_k", "tail_on_disk", "extent")

    def __init__(self, table: Table, datasets: list[h5py.h5d.DatasetID]) -> None:
        self.table = table
        self.datasets = datasets
        self.tail: list[np.ndarray] | None = None  # rows of chunk tail_k (fewer than a chunk)
        self.tail_k = 0
        self.tail_on_disk = 0  # rows of the tail already written
        self.extent = 0  # rows of every column dataset in the file

    def cut(self, arrays: list[np.ndarray]) -> Iterator[tuple[int, int, list[np.ndarray]]]:
        """Add rows (one array per column) and yield the chunks they complete, as
        ``(k, CHUNK_ROWS, columns)``; the rest becomes the tail."""
        if self.tail is not None:
            arrays = [np.concatenate((t, a)) for t, a in zip(self.tail, arrays, strict=True)]
        n = len(arrays[0])
        full = n // CHUNK_ROWS
        for i in range(full):
            lo = i * CHUNK_ROWS
            yield self.tail_k + i, CHUNK_ROWS, [a[lo:lo + CHUNK_ROWS] for a in arrays]
        if full:
            self.tail_k += full
            self.tail_on_disk = 0
        rest = n - full * CHUNK_ROWS
        self.tail = [a[n - rest:] for a in arrays] if rest else None

    @property
    def tail_rows(self) -> int:
        """Rows of the tail (0 to ``CHUNK_ROWS - 1``)."""
        return 0 if self.tail is None else len(self.tail[0])

    def take_tail(self) -> tuple[int, int, list[np.ndarray]] | None:
        """The tail as a chunk to write, unless it is on disk already."""
        if self.tail is None or len(self.tail[0]) == self.tail_on_disk:
            return None
        n = len(self.tail[0])
        self.tail_on_disk = n
        return self.tail_k, n, self.tail

    def write(self, job: ChunkJob, encoded: list[bytes] | None) -> None:
        """Write a job's chunk into every column dataset (growing them to cover it): the
        encoded chunks directly, or (None) the rows through h5py."""
        start, end = job.k * CHUNK_ROWS, job.end
        grow = end > self.extent
        for ds, values, data in zip(self.datasets, job.columns, encoded or job.columns,
                                    strict=True):
            if grow:
                ds.set_extent((end,))
            if encoded is None:
                h5py.Dataset(ds)[start:end] = values[:job.n]
            else:
                ds.write_direct_chunk((start,), data)
        if grow:
            self.extent = end


class ChunkQueue:
    """The chunks on their way to the file, written in the order they were made.

    Args:
        direct: Encode gzip chunks on a worker thread (True) or write rows through h5py.
    """

    def __init__(self, direct: bool) -> None:
        self.direct = direct
        self._jobs: deque[ChunkJob] = deque()
        self._pool: ThreadPoolExecutor | None = None

    def __len__(self) -> int:
        return len(self._jobs)

    def add(self, stream: TableStream, k: int, n: int, columns: list[np.ndarray]) -> None:
        """Queue rows ``[k * CHUNK_ROWS, k * CHUNK_ROWS + n)`` of a table (and start
        encoding them)."""
        encoded = None
        if self.direct:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="uavtwin-trace")
            encoded = self._pool.submit(gzip_chunk, columns)
        self._jobs.append(ChunkJob(stream, k, n, columns, encoded))

    def write_ready(self, write: Callable[[ChunkJob, list[bytes] | None], None]) -> None:
        """Write the jobs at the front of the queue whose chunks are encoded (waiting for
        the oldest while more than :data:`MAX_QUEUED` are queued)."""
        self._write(write, MAX_QUEUED)

    def write_all(self, write: Callable[[ChunkJob, list[bytes] | None], None]) -> None:
        """Write every queued job, in order, waiting for its encoding."""
        self._write(write, 0)

    def _write(self, write: Callable[[ChunkJob, list[bytes] | None], None], waiting: int
               ) -> None:
        """Write jobs from the front, in order, while the front one is encoded or more than
        ``waiting`` are queued; a job leaves the queue once written. Rather than wait for
        the front job's worker, this thread encodes jobs that no worker has started yet."""
        jobs = self._jobs
        while jobs:
            job = jobs[0]
            if job.encoded is not None and not job.encoded.done():
                if len(jobs) <= waiting:
                    return
                if self._encode_newest():
                    continue
            write(job, job.encoded_now())
            jobs.popleft()

    def _encode_newest(self) -> bool:
        """Encode here the newest queued job that no worker has started (the workers take
        the oldest first). Returns False if every job is started already.

        The job keeps its cancelled future until its encoding is done (an interrupt in
        between leaves it to :meth:`ChunkJob.encoded_now`); an encoding error is kept in
        the job, to be raised when it is written, after the jobs before it."""
        for job in reversed(self._jobs):
            pending = job.encoded
            if pending is None or pending.done():
                continue
            if not pending.cancel():  # running: so are the jobs before it
                return False
            done: Future[list[bytes]] = Future()
            try:
                done.set_result(gzip_chunk(job.columns))
            except Exception as exc:
                done.set_exception(exc)
            job.encoded = done
            return True
        return False

    def drop_front(self) -> ChunkJob:
        """Remove the front job (it could not be written) and return it."""
        return self._jobs.popleft()

    def stop(self) -> None:
        """Stop the workers: jobs not started are encoded by whoever writes them."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
