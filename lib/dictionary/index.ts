/** Dictionary learning and sparse autoencoders: OMP, K-SVD, ISTA/FISTA, SAEs and SAELens's metrics. */
export * from "./omp.js";
export * from "./ksvd.js";
export * from "./lasso.js";
export * from "./sae.js";
export * from "./train-sae.js";
export * from "./metrics.js";
export * from "./saelens.js";
export * from "./superposition.js";
export * from "./dashboard.js";
export * from "./synthetic.js";
