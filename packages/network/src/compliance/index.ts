/**
 * The NetworkDriver compliance suite (filled in by issue 16).
 *
 * @module
 */
export {}
