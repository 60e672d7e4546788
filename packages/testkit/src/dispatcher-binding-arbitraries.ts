/**
 * fast-check arbitraries of the dispatcher's wire messages (every request, response and stream
 * message of `DispatcherApi`), canonical like the object arbitraries: optional keys absent rather
 * than `undefined`, plain objects — so `decode(encode(x))` must equal `x` exactly.
 */
import fc from 'fast-check'
import type {
  Assignment,
  AssignmentChange,
  AssignmentsMessage,
  DispatcherMessages,
  DispatcherMessageType,
  SessionMessage,
  SessionRequest,
  TaskStatusUpdate,
  UpdateTaskStatusRequest,
  WeightedManager,
} from '@swarmkit-ts/api'
import { arbConfig, arbEncryptionKey, arbSecret } from './arbitraries/cluster-objects.ts'
import { arbNode, arbTask } from './arbitraries/objects.ts'
import { arbAddr, arbBytes, arbId, arbNat, arbText, MAX_ITEMS, rec } from './arbitraries/primitives.ts'

/** Zero or more elements (the dispatcher's collections are required: `[]` when empty). */
const list = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T[]> => fc.array(arb, { maxLength: MAX_ITEMS })

/** A session id as dispatchers make them (any string is carried). */
const arbSessionId = (): fc.Arbitrary<string> => fc.oneof(arbId(), arbText())

/** A {@link WeightedManager}. */
export function arbWeightedManager(): fc.Arbitrary<WeightedManager> {
  return rec<WeightedManager>({ nodeId: arbId(), addr: arbAddr(), weight: arbNat() }, ['nodeId', 'addr', 'weight'])
}

/** A {@link SessionRequest}, with or without a session to resume. */
export function arbSessionRequest(): fc.Arbitrary<SessionRequest> {
  return rec<SessionRequest>({ description: arbNode().map((n) => n.description ?? {}), sessionId: arbSessionId() }, ['description'])
}

/** A {@link SessionMessage}. */
export function arbSessionMessage(): fc.Arbitrary<SessionMessage> {
  return rec<SessionMessage>(
    { sessionId: arbSessionId(), node: arbNode(), managers: list(arbWeightedManager()), networkBootstrapKeys: list(arbEncryptionKey()), rootCa: arbBytes(0) },
    ['sessionId', 'node', 'managers', 'networkBootstrapKeys', 'rootCa'],
  )
}

/** A {@link TaskStatusUpdate}. */
export function arbTaskStatusUpdate(): fc.Arbitrary<TaskStatusUpdate> {
  return rec<TaskStatusUpdate>({ taskId: arbId(), status: arbTask().map((t) => t.status) }, ['taskId', 'status'])
}

/** An {@link UpdateTaskStatusRequest}. */
export function arbUpdateTaskStatusRequest(): fc.Arbitrary<UpdateTaskStatusRequest> {
  return rec<UpdateTaskStatusRequest>({ sessionId: arbSessionId(), updates: list(arbTaskStatusUpdate()) }, ['sessionId', 'updates'])
}

/** An {@link Assignment}: a task, a secret or a config. */
export function arbAssignment(): fc.Arbitrary<Assignment> {
  return fc.oneof(
    arbTask().map((task): Assignment => ({ task })),
    arbSecret().map((secret): Assignment => ({ secret })),
    arbConfig().map((config): Assignment => ({ config })),
  )
}

/** An {@link AssignmentChange}. */
export function arbAssignmentChange(): fc.Arbitrary<AssignmentChange> {
  return rec<AssignmentChange>({ action: fc.constantFrom('update', 'remove'), assignment: arbAssignment() }, ['action', 'assignment'])
}

/** An {@link AssignmentsMessage}: complete (applying to nothing) or incremental. */
export function arbAssignmentsMessage(): fc.Arbitrary<AssignmentsMessage> {
  return fc.oneof(
    rec<AssignmentsMessage>(
      { type: fc.constant('complete'), appliesTo: fc.constant(''), resultsIn: arbId(), changes: list(arbAssignmentChange()) },
      ['type', 'appliesTo', 'resultsIn', 'changes'],
    ),
    rec<AssignmentsMessage>(
      { type: fc.constant('incremental'), appliesTo: arbId(), resultsIn: arbId(), changes: list(arbAssignmentChange()) },
      ['type', 'appliesTo', 'resultsIn', 'changes'],
    ),
  )
}

const ARBITRARIES: { [K in DispatcherMessageType]: () => fc.Arbitrary<DispatcherMessages[K]> } = {
  SessionRequest: arbSessionRequest,
  SessionMessage: arbSessionMessage,
  HeartbeatRequest: () => rec({ sessionId: arbSessionId() }, ['sessionId']),
  HeartbeatResponse: () => rec({ periodMs: arbNat() }, ['periodMs']),
  UpdateTaskStatusRequest: arbUpdateTaskStatusRequest,
  UpdateTaskStatusResponse: () => fc.constant({}),
  AssignmentsRequest: () => rec({ sessionId: arbSessionId() }, ['sessionId']),
  AssignmentsMessage: arbAssignmentsMessage,
}

/** Any dispatcher wire message of the given type. */
export function arbDispatcherMessage<K extends DispatcherMessageType>(type: K): fc.Arbitrary<DispatcherMessages[K]> {
  return ARBITRARIES[type]()
}
