/**
 * ipam (filled in by its part of issue 16).
 *
 * @module
 */
export {}
