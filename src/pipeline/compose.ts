/**
 * @module pipeline/compose
 * Folds a route's stages around the terminal forwarder, once per route when the config is built.
 */
import type { Next, Stage } from './stage';

/** compose([a, b], t) = ex => a(ex, ex => b(ex, t)). An empty list is the terminal itself. */
export const compose = (stages: readonly Stage[], terminal: Next): Next =>
  stages.reduceRight<Next>((next, stage) => (ex) => stage(ex, next), terminal);
