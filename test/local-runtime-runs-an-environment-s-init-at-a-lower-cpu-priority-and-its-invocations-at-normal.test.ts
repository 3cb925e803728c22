import { InvokeCommand } from '@aws-sdk/client-lambda'
import t from 'tap'
import { handlerPath, payloadOf, startTestRuntime } from './helpers/lambda-runtime.js'

// On AWS each environment is a machine of its own; here environments share the cores, so an init (a promotion's
// warm-up loading a model) runs at nice 10 and gives way to the invocations other environments are answering.
t.test('the init phase runs at nice 10, threads and all; invocations at 0', { skip: process.platform !== 'linux' ? 'thread priorities as Linux has them' : false }, async (t) => {
  const { lambda } = await startTestRuntime(t, {
    functions: [{ name: 'priority', bundlePath: handlerPath('reports-priority.mjs'), handler: 'handler', environment: {} }],
  })
  const first = payloadOf((await lambda.send(new InvokeCommand({ FunctionName: 'priority' }))).Payload)
  t.equal(first.atInit, 10, 'module scope ran at nice 10')
  t.equal(first.workerAtInit, 10, 'a thread started during init inherited it')
  // Restoring a priority needs root (or CAP_SYS_NICE); without it the environment stays at 10.
  t.equal(first.atInvoke, process.getuid?.() === 0 ? 0 : 10, 'the invocation ran at normal priority again')
  const second = payloadOf((await lambda.send(new InvokeCommand({ FunctionName: 'priority' }))).Payload)
  t.equal(second.atInvoke, first.atInvoke, 'and so does the next one, in the same environment')
})
