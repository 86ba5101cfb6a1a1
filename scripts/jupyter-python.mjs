import { spawnSync } from "node:child_process";

/** The Python that has Jupyter: Debian's /usr/bin/python3, which a pyenv python3 earlier on PATH may hide. */
export function jupyterPython() {
  for (const candidate of ["/usr/bin/python3", "python3"]) {
    const probe = spawnSync(candidate, ["-c", "import nbclient, nbconvert, jupyter_client, notebook"], { stdio: "ignore" });
    if (probe.status === 0) return candidate;
  }
  return null;
}

/** The environment Jupyter needs to find the project's kernel. */
export function jupyterEnv(root, extra = {}) {
  const kernels = `${root}/.jupyter/share/jupyter`;
  return {
    ...process.env,
    JUPYTER_PATH: [kernels, process.env.JUPYTER_PATH].filter(Boolean).join(":"),
    PYDEVD_DISABLE_FILE_VALIDATION: "1",
    ...extra,
  };
}
