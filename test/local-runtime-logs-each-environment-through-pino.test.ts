import { Writable } from 'node:stream'
import { InvokeCommand } from '@aws-sdk/client-lambda'
import { pino } from 'pino'
import t from 'tap'
import { handlerPath, payloadOf, startTestRuntime } from './helpers/lambda-runtime.js'

/** A pino destination that keeps every line, and lets a test wait until a line it expects has been written. */
function logCollector () {
  const lines: Record<string, any>[] = []
  const waiters: { matches: (line: Record<string, any>) => boolean, resolve: (line: Record<string, any>) => void }[] = []
  const stream = new Writable({
    write (chunk, _encoding, callback) {
      for (const text of String(chunk).split('\n').filter((l) => l !== '')) {
        const line = JSON.parse(text) as Record<string, any>
        lines.push(line)
        for (const waiter of waiters.filter((w) => w.matches(line))) {
          waiters.splice(waiters.indexOf(waiter), 1)
          waiter.resolve(line)
        }
      }
      callback()
    },
  })
  const waitFor = (matches: (line: Record<string, any>) => boolean): Promise<Record<string, any>> => {
    const found = lines.find(matches)
    if (found !== undefined) return Promise.resolve(found)
    return new Promise((resolve) => waiters.push({ matches, resolve }))
  }
  return { logger: pino({ level: 'info' }, stream), lines, waitFor }
}

t.test('handler output goes through pino with function, version, environment and request id; JSON lines stay objects', async (t) => {
  const logs = logCollector()
  const { lambda } = await startTestRuntime(t, {
    functions: [{ name: 'echo', bundlePath: handlerPath('echo.mjs'), handler: 'handler', environment: {} }],
    logger: logs.logger,
  })
  const response = await lambda.send(new InvokeCommand({ FunctionName: 'echo', Payload: JSON.stringify({ log: true }) }))
  const requestId = payloadOf(response.Payload).context.awsRequestId as string
  const expected = { function: 'echo', version: '$LATEST', requestId }

  const text = await logs.waitFor((l) => l.msg === 'echo invocation 1')
  t.match(text, { ...expected, level: 30, environmentId: /^[0-9a-f]{32}$/ })
  const stderr = await logs.waitFor((l) => l.msg === 'a line on stderr')
  t.match(stderr, { ...expected, level: 40 })
  const structured = await logs.waitFor((l) => l.msg === 'model cache miss')
  t.match(structured, { ...expected, level: 40, model: 'resnet', logger: 'inference' }, 'the handler\'s pino line keeps its fields and level')
  t.not(structured.hostname, 'sandbox', 'pino\'s own bookkeeping fields are the runtime\'s, not duplicated from the line')

  const start = await logs.waitFor((l) => typeof l.msg === 'string' && l.msg.startsWith('START RequestId'))
  t.equal(start.msg, `START RequestId: ${requestId} Version: $LATEST`)
  const report = await logs.waitFor((l) => typeof l.msg === 'string' && l.msg.startsWith('REPORT RequestId'))
  t.match(report, { ...expected, coldStart: true, durationMs: Number, initDurationMs: Number })
  t.match(report.msg, /Duration: [\d.]+ ms\tBilled Duration: \d+ ms\tMemory Size: 128 MB\tMax Memory Used: \d+ MB\tInit Duration: [\d.]+ ms/)
  t.equal(text.environmentId, report.environmentId)
})
