/**
 * Scaling laws: fits of loss against size, data and compute (Kaplan, Chinchilla, IsoFLOP), the
 * counts they need, and sweeps that train many small models reproducibly and resumably.
 *
 *   const fit = fitChinchilla(points, { refine: 100 });   // { E, A, B, alpha, beta }
 *   const { spread } = bootstrapChinchilla(points, fit);  // standard errors from 1,000 resamples
 *   const law = fitPowerLaw(params, losses);               // L(N) = (N_c / N)^α
 *
 *   const spec = { name: "mlp", task: "teacher-mse", grid: { width: [8, 16, 32] }, seeds: [0, 1] };
 *   const { records } = await runSweep(spec, { executor: new PoolExecutor() });  // out/sweeps/mlp/<id>.json
 *
 * Executors: InProcessExecutor, PoolExecutor (local processes), BullMQExecutor + startSweepWorker
 * (a Redis queue; `npm run sweep -- --queue redis://…` and `npm run worker -- --queue redis://…`).
 */
export * from "./lbfgs.js";
export * from "./bootstrap.js";
export * from "./chinchilla.js";
export * from "./powerlaw.js";
export * from "./isoflop.js";
export * from "./flops.js";
export * from "./epoch.js";
export * from "./sweep.js";
export * from "./runs.js";
export * from "./task.js";
export * from "./executor.js";
export * from "./pool.js";
export * from "./redis-queue.js";
export * from "./run-sweep.js";
export * from "./tasks/teacher.js";
export * from "./tasks/char-gpt.js";
export { BUILTIN_TASKS } from "./tasks/index.js";
export * from "./figures.js";
