/**
 * @ct/core: the pure domain of the CT stack. No I/O: everything here is a function of its
 * arguments, so the trainer, the API, the CLI and the tests share one definition of a model,
 * a metric and a decision.
 */
export * from './algorithms';
export * from './canonical-json';
export * from './classifier';
export * from './gate';
export * from './labeled-set';
export * from './matrix';
export * from './metrics';
export * from './ml-logistic-regression';
export * from './model-spec';
export * from './policy';
export * from './random';
export * from './standardizer';
export * from './training-data-error';
export * from './training-step';
export * from './version-id';
export * from './bootstrap';
export * from './mcnemar';
export * from './normal-quantile';
export * from './wilson';
export * from './csv';
export * from './lbfgs';
export * from './softmax-regression';
export * from './synthetic';
export * from './guardrails';
export * from './preprocessing';
export * from './version-model';
export * from './spec-csv';
export * from './random-forest';
export * from './knn';
export * from './gaussian-nb';
export * from './binomial';
export * from './set-digest';
export * from './normal-cdf';
export * from './two-proportion';
export * from './automation-rules';
export * from './incomplete-gamma';
export * from './chi-square-test';
export * from './kolmogorov-distribution';
export * from './ks-two-sample';
export * from './drift-binning';
export * from './psi';
export * from './jensen-shannon';
export * from './feature-drift';
export * from './model-drift';
