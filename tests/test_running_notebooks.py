"""course_lib.running_notebooks: nbclient's waits for the kernel come in slices, so a missed wake-up cannot stall."""
import asyncio
from queue import Empty

import nbformat
import pytest

from course_lib.running_notebooks import SLICE_SECONDS, SlicedChannel, in_slices, notebook_client


class MissedWakeUp:
    """A channel whose message is already there, but whose waits longer than a slice never see it (the wake-up was
    missed) and end empty at their timeout; a fake clock moves by each wait's timeout."""

    def __init__(self, message=None):
        self.now, self.timeouts, self.message = 0.0, [], message

    def clock(self):
        return self.now

    async def get_msg(self, timeout=None):
        self.timeouts.append(timeout)
        if self.message is not None and timeout <= SLICE_SECONDS:
            return self.message
        self.now += timeout
        raise Empty


@pytest.mark.parametrize("timeout", [600, None])
def test_a_missed_wake_up_costs_no_wait_beyond_a_slice(timeout):
    channel = MissedWakeUp(message={"msg_type": "execute_reply"})
    reply = asyncio.run(in_slices(channel.get_msg, timeout, clock=channel.clock))
    assert reply == {"msg_type": "execute_reply"} and channel.timeouts == [SLICE_SECONDS]


@pytest.mark.parametrize("timeout, slices", [(3.5, [1.0, 1.0, 1.0, 0.5]), (0.25, [0.25]), (0, [0.0])])
def test_an_empty_channel_waits_out_the_whole_timeout_in_slices(timeout, slices):
    channel = MissedWakeUp()
    with pytest.raises(Empty):
        asyncio.run(in_slices(channel.get_msg, timeout, slice_seconds=1.0, clock=channel.clock))
    assert channel.timeouts == slices and channel.now == pytest.approx(timeout)


def test_the_clients_kernel_channels_wait_in_slices_and_run_a_notebook():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(6 * 7)")])
    client = notebook_client(nb, kernel_name="python3", timeout=60)
    with client.setup_kernel():
        assert isinstance(client.kc.shell_channel, SlicedChannel)
        assert isinstance(client.kc.iopub_channel, SlicedChannel)
        client.execute_cell(nb.cells[0], 0)
    assert nb.cells[0].outputs[0]["text"] == "42\n"
