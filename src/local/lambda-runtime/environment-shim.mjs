// One Lambda execution environment: a child process of the local Lambda runtime (environment.ts forks it).
// Plain JavaScript with no loader, so that a cold start costs what Node and the bundle cost and nothing else.
// It imports the bundle once (the init phase), then runs the handler for each `invoke` message, one at a time,
// keeping module state between invocations as a warm Lambda environment does. Errors are reported in the shape of
// Lambda's Node.js runtime: { errorType: error.name, errorMessage, trace: stack lines }.
import { pathToFileURL } from 'node:url'

const [bundlePath, exportName] = process.argv.slice(2)
let current

function toErrorPayload (error) {
  if (error instanceof Error) {
    return { errorType: error.name, errorMessage: error.message, trace: String(error.stack ?? '').split('\n') }
  }
  return { errorType: typeof error, errorMessage: String(error), trace: [] }
}

function sendAndExit (message, code) {
  process.send(message, () => process.exit(code))
}

// An exception that escapes the handler (a callback, a timer) ends the environment, as in Lambda's Node.js runtime.
process.on('uncaughtException', (error) => {
  sendAndExit({ type: 'fatal', requestId: current?.requestId, error: toErrorPayload(error) }, 129)
})
process.on('unhandledRejection', (reason) => {
  const error = toErrorPayload(reason)
  sendAndExit({
    type: 'fatal',
    requestId: current?.requestId,
    error: { errorType: 'Runtime.UnhandledPromiseRejection', errorMessage: `${error.errorType}: ${error.errorMessage}`, trace: error.trace },
  }, 128)
})

// The runtime decides when an environment ends: Ctrl-C in its terminal reaches this process group too, and a
// runtime that died without closing leaves the IPC channel disconnected.
process.on('SIGINT', () => {})
process.on('disconnect', () => process.exit(0))

let handler
try {
  const module = await import(pathToFileURL(bundlePath).href)
  handler = module[exportName] ?? module.default?.[exportName]
  if (typeof handler !== 'function') {
    sendAndExit({
      type: 'init-error',
      error: { errorType: 'Runtime.HandlerNotFound', errorMessage: `${process.env._HANDLER} is undefined or not exported`, trace: [] },
    }, 1)
  } else {
    process.send({ type: 'ready' })
  }
} catch (error) {
  let payload = toErrorPayload(error)
  if (error?.code === 'ERR_MODULE_NOT_FOUND') {
    payload = { errorType: 'Runtime.ImportModuleError', errorMessage: `Error: ${error.message}`, trace: payload.trace }
  } else if (error instanceof SyntaxError) {
    payload = { errorType: 'Runtime.UserCodeSyntaxError', errorMessage: `SyntaxError: ${error.message}`, trace: payload.trace }
  }
  sendAndExit({ type: 'init-error', error: payload }, 1)
}

process.on('message', (message) => {
  if (message.type === 'invoke') invoke(message)
})

async function invoke ({ requestId, payload, deadline, invokedFunctionArn, clientContext }) {
  current = { requestId }
  const context = {
    awsRequestId: requestId,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    clientContext,
    identity: undefined,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  }
  let message
  try {
    const result = await runHandler(JSON.parse(payload), context)
    let body
    try {
      body = JSON.stringify(result === undefined ? null : result)
    } catch (error) {
      throw Object.assign(new Error(`Unable to stringify response body: ${error.message}`), { name: 'Runtime.MarshalError' })
    }
    message = { type: 'result', requestId, payload: body }
  } catch (error) {
    message = { type: 'error', requestId, error: toErrorPayload(error) }
  }
  current = undefined
  message.maxRssKb = process.resourceUsage().maxRSS
  process.send(message)
}

// Async handlers return a promise; handlers with three parameters answer through the callback, as Lambda allows.
function runHandler (event, context) {
  return new Promise((resolve, reject) => {
    const callback = (error, value) => (error === null || error === undefined ? resolve(value) : reject(error))
    const returned = handler(event, context, callback)
    if (typeof returned?.then === 'function') returned.then(resolve, reject)
    else if (handler.length < 3) resolve(returned)
  })
}
