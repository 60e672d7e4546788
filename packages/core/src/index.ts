/**
 * swarmkit-ts assembled (issue 18, in progress): manager and worker nodes joined over gRPC with
 * mutual TLS. The parts land one folder at a time; `Cluster` comes last.
 *
 * @packageDocumentation
 */
export {}
