"""Notebooks run outside JupyterLab (grading, the offline slide decks, the notebook benchmark), with nbclient.

nbclient waits for the kernel's messages with pyzmq's asyncio poll, which can miss the wake-up of a message that
has already arrived: the kernel is idle, its reply sits in the socket, and the wait goes on until its timeout.
Seen here: `make slides` stalled on notebook 00's interact cell in 4 of 12 runs (ipykernel 7.4) and 5 of 12
(ipykernel 6.31) with the other core busy, each until the cell timeout (600 s); grading would report such a
cell as timed out.

A poll that ends by its timer looks at the socket itself before it returns, so waiting in slices of
``SLICE_SECONDS`` turns a missed wake-up into a delay of at most one slice (0 stalls in 32 runs of that test).
``notebook_client`` is nbclient's NotebookClient on such a kernel client; nbconvert's executor takes
``SlicedKernelManager`` as its ``kernel_manager_class``.
"""
from __future__ import annotations

import time
from queue import Empty

from jupyter_client import AsyncKernelManager
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.channels import AsyncZMQSocketChannel
from nbclient import NotebookClient
from traitlets import Type

SLICE_SECONDS = 1.0


async def in_slices(get_msg, timeout: float | None, slice_seconds: float = SLICE_SECONDS, clock=time.monotonic):
    """``await get_msg(timeout)``, asked at most ``slice_seconds`` at a time until ``timeout`` (None: no limit).

    Returns the next message, or raises queue.Empty once ``timeout`` seconds have passed without one.
    """
    deadline = float("inf") if timeout is None else clock() + timeout
    while True:
        left = deadline - clock()
        try:
            return await get_msg(timeout=max(0.0, min(slice_seconds, left)))
        except Empty:
            if left <= slice_seconds:
                raise


class SlicedChannel(AsyncZMQSocketChannel):
    """A kernel client's channel whose ``get_msg`` waits in slices (see the module's docstring)."""

    async def get_msg(self, timeout: float | None = None):
        return await in_slices(super().get_msg, timeout)


class SlicedKernelClient(AsyncKernelClient):
    """jupyter_client's asyncio kernel client, waiting for replies (shell) and outputs (iopub) in slices."""

    shell_channel_class = Type(SlicedChannel)
    iopub_channel_class = Type(SlicedChannel)


class SlicedKernelManager(AsyncKernelManager):
    """Starts kernels whose client is a SlicedKernelClient: nbclient's ``kernel_manager_class``."""

    client_factory = Type(SlicedKernelClient)


def notebook_client(nb, **options) -> NotebookClient:
    """nbclient's NotebookClient for ``nb`` (NotebookClient's options), its waits for the kernel in slices."""
    return NotebookClient(nb, kernel_manager_class=SlicedKernelManager, **options)
