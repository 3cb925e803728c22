import { CloudWatchClient, GetMetricDataCommand, ListMetricsCommand } from '@aws-sdk/client-cloudwatch'
import { CreateAliasCommand, InvokeCommand, PublishVersionCommand } from '@aws-sdk/client-lambda'
import t from 'tap'
import { CloudWatchStepMetrics, metricsWindow } from '../src/deploy/cloudwatch-metrics.js'
import { handlerPath, startTestRuntime } from './helpers/lambda-runtime.js'

t.test('the runtime\'s CloudWatch subset answers GetMetricData to @aws-sdk/client-cloudwatch as AWS documents it', async (t) => {
  const { runtime, lambda } = await startTestRuntime(t, {
    functions: [{ name: 'fn', bundlePath: handlerPath('faulty.mjs'), handler: 'index.handler', environment: {}, memoryMb: 256, timeoutSeconds: 5 }],
    cloudwatchPort: 0,
  })
  const cloudwatch = new CloudWatchClient({ endpoint: runtime.cloudwatchUrl, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 })
  t.teardown(() => cloudwatch.destroy())
  const v1 = (await lambda.send(new PublishVersionCommand({ FunctionName: 'fn' }))).Version!
  await lambda.send(new CreateAliasCommand({ FunctionName: 'fn', Name: 'live', FunctionVersion: v1 }))
  const started = Date.now()
  const invoke = async (qualifier: string, payload: unknown): Promise<string | undefined> =>
    (await lambda.send(new InvokeCommand({ FunctionName: 'fn', Qualifier: qualifier, Payload: Buffer.from(JSON.stringify(payload)) }))).FunctionError
  for (let i = 0; i < 5; i++) t.equal(await invoke('live', { ok: true }), undefined)
  for (let i = 0; i < 2; i++) t.equal(await invoke('live', { action: 'throw' }), 'Unhandled', 'a function error')
  await invoke(v1, { ok: true }) // by version number, as a warm-up: not under Resource fn:live
  const ended = Date.now() + 1000

  const dimensions = [{ Name: 'FunctionName', Value: 'fn' }, { Name: 'Resource', Value: 'fn:live' }, { Name: 'ExecutedVersion', Value: v1 }]
  const window = metricsWindow(started, ended, 1)
  const answer = await cloudwatch.send(new GetMetricDataCommand({
    StartTime: new Date(window.startMs),
    EndTime: new Date(window.endMs),
    MetricDataQueries: [
      { Id: 'inv', MetricStat: { Metric: { Namespace: 'AWS/Lambda', MetricName: 'Invocations', Dimensions: dimensions }, Period: window.period, Stat: 'Sum' } },
      { Id: 'err', MetricStat: { Metric: { Namespace: 'AWS/Lambda', MetricName: 'Errors', Dimensions: dimensions }, Period: window.period, Stat: 'Sum' } },
      { Id: 'p95', MetricStat: { Metric: { Namespace: 'AWS/Lambda', MetricName: 'Duration', Dimensions: dimensions }, Period: window.period, Stat: 'p95' } },
      { Id: 'all', MetricStat: { Metric: { Namespace: 'AWS/Lambda', MetricName: 'Invocations', Dimensions: [{ Name: 'FunctionName', Value: 'fn' }] }, Period: window.period, Stat: 'Sum' } },
      { Id: 'other', MetricStat: { Metric: { Namespace: 'AWS/Lambda', MetricName: 'Invocations', Dimensions: [...dimensions.slice(0, 2), { Name: 'ExecutedVersion', Value: '99' }] }, Period: window.period, Stat: 'Sum' } },
    ],
  }))
  const results = Object.fromEntries((answer.MetricDataResults ?? []).map((r) => [r.Id, r]))
  t.match(results.inv, { Id: 'inv', Label: 'Invocations', StatusCode: 'Complete', Values: [7] })
  t.ok(results.inv?.Timestamps?.[0] instanceof Date, 'timestamps parse as dates (epoch seconds on the wire)')
  t.equal(results.inv!.Timestamps![0]!.getTime(), window.startMs, 'the datapoint is stamped with its period\'s start')
  t.same(results.err?.Values, [2], 'Errors counts function errors')
  t.ok((results.p95?.Values?.[0] ?? 0) > 0, `Duration p95 ${String(results.p95?.Values?.[0])} ms`)
  t.same(results.all?.Values, [8], 'by FunctionName alone the by-version invocation counts too')
  t.same(results.other?.Values, [], 'no datapoint for a version that ran nothing')

  const figures = await new CloudWatchStepMetrics(cloudwatch, 1).read({ functionName: 'fn', functionAlias: 'live', candidateVersion: v1, stableVersion: '99', startMs: started, endMs: ended })
  t.match(figures, { candidate: { invocations: 7, errors: 2, p95Ms: Number }, stable: { invocations: 0, errors: 0, p95Ms: null } }, 'what a rollout reads')

  await t.rejects(cloudwatch.send(new ListMetricsCommand({})), { name: 'UnknownOperationException' }, 'only GetMetricData is served')
  await t.rejects(cloudwatch.send(new GetMetricDataCommand({
    StartTime: new Date(window.startMs), EndTime: new Date(window.endMs), MetricDataQueries: [{ Id: 'e', Expression: 'SUM(METRICS())' }],
  })), { name: 'InvalidParameterValueException' }, 'math expressions are outside the subset and say so')
})
