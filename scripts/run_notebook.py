#!/usr/bin/env python3
"""Executes a notebook end to end with nbclient (the kernel is this interpreter's ipykernel) and
fails on the first cell that raises. With --write the executed notebook, outputs included,
replaces the file (how examples/notebook.ipynb's committed outputs are made); without, it is
written to a temporary file and only checked.

    python scripts/run_notebook.py [--write] examples/notebook.ipynb
"""
import argparse
import os
import sys
import tempfile
import time

import nbformat
from nbclient import NotebookClient


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("notebook")
    ap.add_argument("--write", action="store_true")
    a = ap.parse_args()
    nb = nbformat.read(a.notebook, as_version=4)
    t0 = time.perf_counter()
    client = NotebookClient(nb, timeout=900, kernel_name="python3", coalesce_streams=True,
                            resources={"metadata": {"path": os.path.dirname(os.path.abspath(a.notebook))}})
    client.execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    if errors:
        sys.exit(f"{a.notebook}: a cell raised {errors[0].get('ename')}: {errors[0].get('evalue')}")
    out = a.notebook if a.write else os.path.join(tempfile.mkdtemp(), "executed.ipynb")
    nbformat.write(nb, out)
    n = sum(1 for c in nb.cells if c.cell_type == "code")
    print(f"{a.notebook}: {n} code cells ran in {time.perf_counter() - t0:.1f} s; written to {out}")


if __name__ == "__main__":
    main()
