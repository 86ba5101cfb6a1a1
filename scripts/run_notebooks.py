"""Execute course notebooks headlessly with the project's tslab kernel.

Writes each executed notebook and an HTML export under out/notebooks/, prints a table of
notebook, status and seconds, and on failure prints the failing cell's source and the kernel's
real error (nbconvert's own message is empty for tslab errors). Exits non-zero if any failed.
Called by `npm run notebooks` (scripts/notebooks.mjs), which picks the Python that has Jupyter.
"""
import argparse
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from nbconvert import HTMLExporter

KERNEL = "gpt-from-scratch"


def error_report(nb, index, exc):
    """The failing cell's source and the kernel's real error: tslab writes it to stderr and
    leaves the error output's name and value empty, so nbclient's own message says nothing."""
    cell = nb.cells[index]
    lines = [f"--- failing cell #{index} ---", cell.source, "--- kernel error ---"]
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream" and out.get("name") == "stderr":
            lines.append(strip_ansi(out.get("text", "")).rstrip())
        elif out.get("output_type") == "error":
            head = f"{out.get('ename', '')}: {out.get('evalue', '')}".strip(": ")
            if head:
                lines.append(head)
            lines.extend(strip_ansi(t) for t in out.get("traceback", []))
    if len(lines) == 3:
        lines.append(f"{type(exc).__name__}: {exc}")
    return "\n".join(lines)


def strip_ansi(text):
    import re
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def run_one(path, out_dir, timeout):
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, kernel_name=KERNEL, timeout=timeout, allow_errors=False,
                            resources={"metadata": {"path": str(path.parent)}})
    started = time.time()
    status, report = "ok", ""
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            try:
                client.execute_cell(cell, index)
            except CellTimeoutError as exc:
                status, report = "timeout", error_report(nb, index, exc) + f"\n(cell timed out after {timeout} s)"
            except DeadKernelError as exc:
                status, report = "dead", error_report(nb, index, exc)
            except CellExecutionError as exc:
                status, report = "failed", error_report(nb, index, exc)
            if status != "ok":
                break
    seconds = time.time() - started
    target = out_dir / path.parent.name
    target.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target / path.name)
    html, _ = HTMLExporter().from_notebook_node(nb)
    (target / path.with_suffix(".html").name).write_text(html, encoding="utf-8")
    return status, seconds, report


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=Path("out/notebooks"))
    parser.add_argument("--timeout", type=int, default=3600, help="seconds per cell")
    args = parser.parse_args()
    rows, failures = [], []
    for path in args.notebooks:
        print(f"▶ {path} (COURSE_PROFILE={os.environ.get('COURSE_PROFILE', 'full')})", flush=True)
        status, seconds, report = run_one(path, args.out, args.timeout)
        rows.append((str(path), status, seconds))
        print(f"  {status} in {seconds:.1f} s", flush=True)
        if status != "ok":
            failures.append((path, report))
            print(report, flush=True)
    width = max(len(r[0]) for r in rows)
    print(f"\n{'notebook'.ljust(width)}  status   seconds")
    for name, status, seconds in rows:
        print(f"{name.ljust(width)}  {status.ljust(7)}  {seconds:7.1f}")
    print(f"\nexecuted notebooks and HTML exports: {args.out}/")
    print(f"notebooks: {len(rows) - len(failures)} passed, {len(failures)} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
