"""Execute a notebook with nbclient (what `jupyter nbconvert --execute` and papermill use).

usage: /usr/bin/python3 test/helpers/run_nbclient.py IN.ipynb OUT.ipynb [TIMEOUT_PER_CELL]

The kernel is the one the notebook's metadata names (kernelspec "tsprof"), found through JUPYTER_PATH.
Writes the executed notebook to OUT.ipynb, also when a cell fails (then exits 1); exits 2 if the
executed notebook is not valid nbformat.
"""

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError


def main() -> int:
    src, dst = Path(sys.argv[1]), Path(sys.argv[2])
    timeout = int(sys.argv[3]) if len(sys.argv) > 3 else 60
    nb = nbformat.read(src, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        startup_timeout=60,
        allow_errors=False,
        # run with the notebook's own directory as the working directory, as Jupyter does
        resources={"metadata": {"path": str(src.parent.resolve())}},
    )
    status = 0
    try:
        client.execute()
    except CellExecutionError as e:
        print(f"nbclient: a cell failed:\n{e}", file=sys.stderr)
        status = 1
    finally:
        nbformat.write(nb, dst)
    # the executed notebook, outputs included, must be valid nbformat
    try:
        nbformat.validate(nb)
    except nbformat.ValidationError as e:
        print(f"nbclient: the executed notebook is not valid nbformat: {e}", file=sys.stderr)
        status = status or 2
    print(f"nbclient: executed {sum(1 for c in nb.cells if c.cell_type == 'code')} code cells "
          f"with kernel {nb.metadata.get('kernelspec', {}).get('name')!r}")
    return status


if __name__ == "__main__":
    sys.exit(main())
