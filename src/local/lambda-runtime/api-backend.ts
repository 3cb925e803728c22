import type { Logger } from 'pino'
import type { FunctionCatalog } from './function-catalog.js'
import type { InvocationTarget } from './function-model.js'

/**
 * What the HTTP layer (http-api.ts) needs from the runtime: the control plane, and a way to run an invocation now
 * or queue one. The runtime implements it; the HTTP layer depends only on this, not on the runtime.
 */
export interface ApiBackend {
  catalog: FunctionCatalog
  logger: Logger
  region: string
  invoke: (target: InvocationTarget, payload: string, options: { logTail: boolean, clientContext: unknown }) => Promise<InvokeResult>
  /** queues an `Event` invocation and answers its request id at once */
  enqueue: (functionName: string, qualifier: string | undefined, payload: string) => string
}

/** The answer of a synchronous invocation, as the Invoke API returns it. */
export interface InvokeResult {
  requestId: string
  executedVersion: string
  /** `Unhandled` when the function failed; the payload is then the error */
  functionError: 'Unhandled' | undefined
  payload: string
  /** base64 of the last 4 KB of log, when asked for */
  logResult: string | undefined
}
