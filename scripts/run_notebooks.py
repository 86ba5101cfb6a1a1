"""Execute course notebooks headlessly with the project's tslab kernel.

Writes each executed notebook (signed as trusted, as `jupyter trust` does, so the Notebook shows
its plots) and an HTML export under out/notebooks/, prints a table of notebook, status and
seconds, and on failure prints the failing cell's source and the kernel's real error (nbconvert's
own message is empty for tslab errors). Exits 1 if any failed, 130 on Ctrl-C (143 on SIGTERM)
after stopping the kernel. Called by `npm run notebooks` (scripts/notebooks.mjs), which picks the
Python that has Jupyter.

Per-cell timeout: --timeout, else the profile's default (ci 300 s, full 3600 s). A notebook that
needs longer says so in its metadata, for all its cells or for one cell:
    "metadata": {"course": {"timeout": 7200}}                      (seconds, any profile)
    "metadata": {"course": {"timeout": {"ci": 600, "full": 14400}}} (per profile)
A cell's own setting wins over the notebook's, which wins over the default.

Errors no cell awaited (thrown in a setTimeout callback, an unhandled promise rejection) fail the
notebook too: scripts/kernel-guard.cjs, loaded into the kernel, appends them to the file named
by COURSE_KERNEL_ERRORS, which is read after every cell.

The kernel process's own stderr (native code writes there: Dawn's adapter warnings, Node's fatal
errors) is kept off the terminal and shown at the end of a failing notebook's report.
"""
import argparse
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from jinja2 import DictLoader
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from nbconvert import HTMLExporter
from nbformat.sign import NotebookNotary

KERNEL = "gpt-from-scratch"
PLOTLY_MIME = "application/vnd.plotly.v1+json"
PLOTLY_JS = Path(__file__).resolve().parent.parent / "node_modules" / "plotly.js-dist" / "plotly.js"
DEFAULT_TIMEOUT = {"ci": 300, "full": 3600}
# How long to wait after the last cell for a timer it left behind to fire (and maybe throw).
SETTLE_SECONDS = 0.5

# nbconvert's lab template without its two scripts from /usr/share/javascript (Debian's require.js
# and MathJax: neither exists on a reader's machine, and no output here needs them; TeX in markdown
# stays as written), plus plotly.js for the figures' HTML (lib/display/plotly.ts) when there are any.
EXPORT_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js_requirejs -%}
{%- if resources.course_plotly_src -%}<script src="{{ resources.course_plotly_src }}" charset="utf-8"></script>{%- endif -%}
{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
"""


class Interrupted(BaseException):
    def __init__(self, signum):
        super().__init__(signum)
        self.code = 128 + signum


def cell_timeout(nb, profile, default):
    """timeout_func for nbclient: the cell's metadata, else the notebook's, else the default."""
    def seconds(metadata, fallback):
        value = metadata.get("course", {}).get("timeout")
        if isinstance(value, dict):
            value = value.get(profile)
        return int(value) if isinstance(value, (int, float)) and value > 0 else fallback
    notebook_default = seconds(nb.metadata, default)
    return lambda cell: seconds(cell.metadata, notebook_default)


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
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def escaped_errors(path, seen):
    """Errors the kernel guard recorded since the last look: [(kind, message)]."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    fresh = [json.loads(line) for line in lines[seen:] if line.strip()]
    return [(e.get("kind", "error"), e.get("message", "")) for e in fresh]


def escaped_report(nb, index, errors):
    cell = nb.cells[index]
    lines = [f"--- error no cell awaited, raised during or just after cell #{index} ---", cell.source, "--- kernel error ---"]
    for kind, message in errors:
        lines.append(f"{kind}: {message}")
    return "\n".join(lines)


def run_one(path, out_dir, profile, timeout, guard):
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, kernel_name=KERNEL, timeout=timeout, allow_errors=False,
                            timeout_func=cell_timeout(nb, profile, timeout),
                            resources={"metadata": {"path": str(path.parent)}})
    # tslab sends no execute_input and nbclient ignores execute_reply's count, so cells would keep
    # execution_count null (the exports' "In [ ]:"): take the kernel's count from its reply.
    client.on_cell_executed = record_execution_count
    Path(guard).write_text("", encoding="utf-8")
    os.environ["COURSE_KERNEL_ERRORS"] = guard
    started = time.time()
    status, report, seen = "ok", "", 0
    # The kernel's own stderr (not the cells': tslab sends those to the notebook) goes to a file, not
    # to this terminal: native libraries write there directly (Dawn's adapter warnings when it is
    # probed, Node's fatal errors), which the table would drown in. Shown when the notebook fails.
    kernel_log = tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace")
    with client.setup_kernel(stderr=kernel_log):
        take_signals(client)
        code_cells = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
        for index, cell in enumerate(nb.cells):
            try:
                client.execute_cell(cell, index)
            except CellTimeoutError as exc:
                limit = client.timeout_func(cell)
                status, report = "timeout", error_report(nb, index, exc) + f"\n(cell timed out after {limit} s)"
            except DeadKernelError as exc:
                status, report = "dead", error_report(nb, index, exc)
            except CellExecutionError as exc:
                status, report = "failed", error_report(nb, index, exc)
            if status == "ok" and cell.cell_type == "code":
                if code_cells and index == code_cells[-1]:
                    time.sleep(SETTLE_SECONDS)
                errors = escaped_errors(guard, seen)
                seen += len(errors)
                if errors:
                    status, report = "failed", escaped_report(nb, index, errors)
                    for kind, message in errors:  # visible in the executed notebook and its export too
                        cell.outputs.append(nbformat.v4.new_output(
                            "error", ename=kind, evalue=message.split("\n")[0], traceback=[message]))
            if status != "ok":
                break
    seconds = time.time() - started
    if status != "ok":
        report += kernel_stderr(kernel_log)
    kernel_log.close()
    target = out_dir / path.parent.name
    target.mkdir(parents=True, exist_ok=True)
    NotebookNotary().sign(nb)
    nbformat.write(nb, target / path.name)
    (target / path.with_suffix(".html").name).write_text(export_html(nb, target, out_dir), encoding="utf-8")
    return status, seconds, report


def kernel_stderr(log, lines=40):
    """The last lines the kernel process wrote to its stderr, as a section of a failure report."""
    log.flush()
    log.seek(0)
    tail = [strip_ansi(line.rstrip("\n")) for line in log.read().splitlines()[-lines:]]
    return "\n--- kernel process stderr (last lines) ---\n" + "\n".join(tail) if tail else ""


def record_execution_count(cell, cell_index, execute_reply):
    count = (execute_reply or {}).get("content", {}).get("execution_count")
    if isinstance(count, int):
        cell["execution_count"] = count


def take_signals(client):
    """Ctrl-C / SIGTERM: stop the kernel and exit 130 / 143, with no Python traceback.
    nbclient's own handlers only schedule a clean-up on its event loop; ours replace them."""
    def stop(signum, frame):
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop_kernel(client)  # first, so that nbclient's clean-up finds it gone instead of waiting on a busy kernel
        raise Interrupted(signum)
    try:
        loop = __import__("asyncio").get_event_loop()
        loop.remove_signal_handler(signal.SIGINT)
        loop.remove_signal_handler(signal.SIGTERM)
    except (RuntimeError, NotImplementedError):
        pass
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    take_signals.client = client


def stop_kernel(client):
    """Kill the kernel's process group (it runs in its own session) and drop its connection file."""
    km = getattr(client, "km", None)
    process = getattr(getattr(km, "provisioner", None), "process", None)
    if process is not None and process.poll() is None:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                break
            try:
                process.wait(timeout=2)
                break
            except Exception:
                continue
    connection_file = getattr(km, "connection_file", None)
    if connection_file and os.path.exists(connection_file):
        os.remove(connection_file)


def export_html(nb, target, out_dir):
    """The HTML export. plotly.js is one copy in out/notebooks/, which every export beside it
    references relatively, rather than 11 MB inlined into each page: the exports of one run share
    it, and an export moved away from it still shows every figure's static SVG."""
    resources = {}
    if any(PLOTLY_MIME in out.get("data", {}) for c in nb.cells for out in c.get("outputs", [])):
        copy = out_dir / "plotly.js"
        if not copy.exists() or copy.stat().st_size != PLOTLY_JS.stat().st_size or copy.stat().st_mtime < PLOTLY_JS.stat().st_mtime:
            shutil.copyfile(PLOTLY_JS, copy)
        resources["course_plotly_src"] = os.path.relpath(copy, target).replace(os.sep, "/")
    exporter = HTMLExporter(template_name="lab", extra_loaders=[DictLoader({"course.html.j2": EXPORT_TEMPLATE})],
                            template_file="course.html.j2")
    html, _ = exporter.from_notebook_node(nb, resources=resources)
    return html


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=Path("out/notebooks"))
    parser.add_argument("--profile", choices=sorted(DEFAULT_TIMEOUT), default=os.environ.get("COURSE_PROFILE", "full"))
    parser.add_argument("--timeout", type=int, default=None, help="default seconds per cell (the profile's otherwise)")
    args = parser.parse_args()
    timeout = args.timeout or DEFAULT_TIMEOUT[args.profile]
    os.environ["COURSE_PROFILE"] = args.profile
    rows, failures = [], []
    guard = tempfile.NamedTemporaryFile(prefix="course-kernel-errors-", suffix=".jsonl", delete=False).name
    current = None
    try:
        for path in args.notebooks:
            current = path
            print(f"▶ {path} (COURSE_PROFILE={args.profile}, {timeout} s per cell)", flush=True)
            status, seconds, report = run_one(path, args.out, args.profile, timeout, guard)
            rows.append((str(path), status, seconds))
            print(f"  {status} in {seconds:.1f} s", flush=True)
            if status != "ok":
                failures.append((path, report))
                print(report, flush=True)
    except (Interrupted, KeyboardInterrupt) as exc:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        client = getattr(take_signals, "client", None)
        if client is not None:
            stop_kernel(client)  # a Ctrl-C before its kernel had started
        name = "SIGTERM" if isinstance(exc, Interrupted) and exc.code == 143 else "Ctrl-C"
        print(f"\ninterrupted ({name}) while running {current}: kernel stopped; "
              f"{len(rows)} notebook(s) finished before it", file=sys.stderr, flush=True)
        os.remove(guard)
        os._exit(exc.code if isinstance(exc, Interrupted) else 130)
    os.remove(guard)
    width = max(len(r[0]) for r in rows)
    print(f"\n{'notebook'.ljust(width)}  status   seconds")
    for name, status, seconds in rows:
        print(f"{name.ljust(width)}  {status.ljust(7)}  {seconds:7.1f}")
    print(f"\nexecuted notebooks (signed as trusted) and HTML exports: {args.out}/")
    print(f"notebooks: {len(rows) - len(failures)} passed, {len(failures)} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
