"""The Python environment every PyTorch comparison script of the project runs in.

One private virtual environment, `.venv-torch/` at the repository root (git-ignored), holds PyTorch
from PyPI. It is made the first time a script needs it: `python3 -m venv .venv-torch`, then
`pip install torch` and `pip install numpy` (unused, but torch warns at import without it). PyPI's Linux wheel also pulls CUDA libraries (several GiB); only the CPU is
used. (PyTorch's CPU-only index, download.pytorch.org, is tried first; where it is unreachable, as on
the project's dev machines, plain PyPI is used.)

A script started with any `python3` calls `run_in_venv()` after parsing its flags (so that `--help`
and flag errors need no PyTorch): outside the environment it makes the environment if needed and
replaces itself with the same script and arguments under the environment's interpreter; inside, it
returns and the script goes on to import torch.

Nothing here depends on anything outside the repository.
"""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
VENV = ROOT / ".venv-torch"
PYTHON = VENV / "bin" / "python"
CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def log(prog, msg):
    print(f"{prog}: {msg}", file=sys.stderr, flush=True)


def fail(prog, msg):
    """Ends the program with one line on stderr and exit status 1."""
    log(prog, f"error: {msg}")
    sys.exit(1)


def _has_torch():
    return PYTHON.exists() and subprocess.run(
        [PYTHON, "-c", "import torch, numpy"], capture_output=True).returncode == 0


def ensure_torch(prog):
    """Makes .venv-torch/ with PyTorch in it, unless it is there already."""
    if _has_torch():
        return
    if not PYTHON.exists():
        log(prog, f"making the virtual environment {VENV}")
        if subprocess.run([sys.executable, "-m", "venv", VENV]).returncode != 0:
            fail(prog, f"`{sys.executable} -m venv {VENV}` failed (on Debian/Ubuntu: apt install "
                       "python3-venv)")
    pip = [PYTHON, "-m", "pip", "install", "--quiet"]
    log(prog, f"installing PyTorch into {VENV} (once; from PyPI it is several GiB)")
    cpu = subprocess.run(pip + ["--retries", "0", "--timeout", "15", "torch", "--index-url",
                                CPU_INDEX], capture_output=True)
    if cpu.returncode != 0:
        log(prog, f"{CPU_INDEX} is unreachable; `pip install torch` from PyPI")
        if subprocess.run(pip + ["torch"]).returncode != 0:
            fail(prog, f"`{PYTHON} -m pip install torch` failed (is PyPI reachable?)")
    # NumPy: the scripts do not use it, but torch warns at import when it is missing.
    if subprocess.run(pip + ["numpy"]).returncode != 0:
        fail(prog, f"`{PYTHON} -m pip install numpy` failed (is PyPI reachable?)")
    if not _has_torch():
        fail(prog, f"torch was installed into {VENV} but does not import")


def in_venv():
    return Path(sys.prefix).resolve() == VENV.resolve()


def run_in_venv(prog):
    """Returns inside .venv-torch/; outside, makes it if needed and re-runs this script in it."""
    if in_venv():
        return
    ensure_torch(prog)
    script = Path(sys.argv[0]).resolve()
    os.execv(PYTHON, [str(PYTHON), str(script)] + sys.argv[1:])
