/**
 * The task executor: task spec → runtime spec, and the controller state machine (issue 17).
 *
 * @module
 */
export {}
