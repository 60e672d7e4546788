/**
 * The dispatcher: node sessions, heartbeats, assignments and status intake, pure on the store (issue 17).
 *
 * @module
 */
export {}
