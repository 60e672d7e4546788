/**
 * The worker: task manager, task database, status reporter, session with the managers (issue 17).
 *
 * @module
 */
export {}
