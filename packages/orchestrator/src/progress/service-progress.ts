/**
 * Progress of a service for users: what the CLI's converge display and
 * `Cluster.services.progress` show.
 *
 * @module
 */
export {}
