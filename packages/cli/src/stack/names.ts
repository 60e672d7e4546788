/**
 * How stack objects are named and labelled (docker/cli `compose/convert/compose.go`).
 *
 * @module
 */

/** The label every object of a stack carries, with the stack's name as value. */
export const NAMESPACE_LABEL = 'com.docker.stack.namespace'

/** The service label docker's `stack deploy` records the compose file's image in. */
export const IMAGE_LABEL = 'com.docker.stack.image'

/** `<stack>_<name>`: the cluster name of a stack's object. */
export function scoped(namespace: string, name: string): string {
  return `${namespace}_${name}`
}
