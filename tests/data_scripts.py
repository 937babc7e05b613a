"""The scripts in data/ that rebuild the course's cached networks, loaded as modules for the tests."""
import importlib.util
from pathlib import Path

import torch

DATA = Path(__file__).resolve().parent.parent / "data"


def load(name: str):
    """data/<name>.py as a module (its main(argv) trains and writes the file)."""
    spec = importlib.util.spec_from_file_location(name, DATA / f"{name}.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    return script


def run_twice(name: str, tmp_path) -> str:
    """Run the script twice for 2 steps into tmp_path; assert the same bytes and torch's settings restored."""
    script = load(name)
    threads = torch.get_num_threads()
    sha1 = script.main(["--max-steps", "2", "--out", str(tmp_path / "one.pt")])
    sha2 = script.main(["--max-steps", "2", "--out", str(tmp_path / "two.pt")])
    assert sha1 == sha2 and len(sha1) == 64
    assert torch.get_num_threads() == threads and not torch.are_deterministic_algorithms_enabled()
    return sha1
