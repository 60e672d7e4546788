/**
 * Deterministic test tools for swarmkit-ts.
 *
 * @packageDocumentation
 */
export {}
