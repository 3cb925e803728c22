import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import t from 'tap'
import { API_ENVIRONMENT, loadApiConfig } from '../src/api/config.js'

t.test('with an empty environment every setting has its documented default', async (t) => {
  const config = loadApiConfig({})
  t.same(config, {
    host: '127.0.0.1',
    port: 3000,
    dataDir: resolve('.modelpin'),
    databaseUrl: `sqlite:${join(resolve('.modelpin'), 'registry.db')}`,
    adminToken: undefined,
    uploadTmpDir: resolve(tmpdir()),
    logLevel: 'info',
    s3: { endpoint: undefined, region: 'us-east-1', forcePathStyle: false, checksums: 'when_supported' },
    lambdaEndpoint: undefined,
    lockTtlSeconds: 30,
    reconcileSeconds: 60,
    liveCacheMs: 2000,
    evaluationConcurrency: 4,
    evaluationInvokeTimeoutMs: 60000,
    cloudwatchEndpoint: undefined,
    metricsPeriodSeconds: 60,
    metricsDelaySeconds: 180,
    maxUploadBytes: 4 * 1024 ** 3,
    bodyTimeoutMs: 30000,
    authFailuresPerMinute: 20,
    autoMigrate: true,
    pgConnectTimeoutMs: 5000,
    pgStatementTimeoutMs: 30000,
  })
})

t.test('each variable sets its field', async (t) => {
  const config = loadApiConfig({
    MODELPIN_API_HOST: '0.0.0.0',
    MODELPIN_API_PORT: '0',
    MODELPIN_DATA_DIR: '/var/lib/modelpin',
    DATABASE_URL: 'postgres://api:secret@db:5432/modelpin',
    MODELPIN_ADMIN_TOKEN: 'a-long-enough-admin-token',
    MODELPIN_UPLOAD_TMP_DIR: '/scratch',
    LOG_LEVEL: 'debug',
    AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:7480',
    AWS_REGION: 'eu-west-1',
    AWS_ENDPOINT_URL_LAMBDA: 'http://127.0.0.1:9001',
    MODELPIN_LOCK_TTL_SECONDS: '5',
    MODELPIN_RECONCILE_SECONDS: '2',
    MODELPIN_LIVE_CACHE_MS: '0',
    MODELPIN_EVALUATION_CONCURRENCY: '8',
    MODELPIN_EVALUATION_INVOKE_TIMEOUT_MS: '5000',
    AWS_ENDPOINT_URL_CLOUDWATCH: 'http://127.0.0.1:9002',
    MODELPIN_METRICS_PERIOD_SECONDS: '1',
    MODELPIN_METRICS_DELAY_SECONDS: '0',
    MODELPIN_MAX_UPLOAD_BYTES: '1048576',
    MODELPIN_BODY_TIMEOUT_MS: '500',
    MODELPIN_AUTH_FAILURES_PER_MINUTE: '3',
    MODELPIN_AUTO_MIGRATE: 'false',
    MODELPIN_PG_CONNECT_TIMEOUT_MS: '1000',
    MODELPIN_PG_STATEMENT_TIMEOUT_MS: '2000',
  })
  t.match(config, {
    evaluationConcurrency: 8,
    evaluationInvokeTimeoutMs: 5000,
    cloudwatchEndpoint: 'http://127.0.0.1:9002',
    metricsPeriodSeconds: 1,
    metricsDelaySeconds: 0,
    maxUploadBytes: 1048576,
    bodyTimeoutMs: 500,
    authFailuresPerMinute: 3,
    autoMigrate: false,
    pgConnectTimeoutMs: 1000,
    pgStatementTimeoutMs: 2000,
    lockTtlSeconds: 5,
    reconcileSeconds: 2,
    liveCacheMs: 0,
    host: '0.0.0.0',
    port: 0,
    dataDir: '/var/lib/modelpin',
    databaseUrl: 'postgres://api:secret@db:5432/modelpin',
    adminToken: 'a-long-enough-admin-token',
    uploadTmpDir: '/scratch',
    logLevel: 'debug',
    s3: { endpoint: 'http://127.0.0.1:7480', region: 'eu-west-1', forcePathStyle: true, checksums: 'when_required' },
    lambdaEndpoint: 'http://127.0.0.1:9001',
  })
  t.equal(loadApiConfig({ MODELPIN_DATA_DIR: '/d' }).databaseUrl, 'sqlite:/d/registry.db', 'the SQLite file follows the data dir')
})

t.test('a wrong value is refused with a message naming its variable', async (t) => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ MODELPIN_API_PORT: 'eighty' }, /^MODELPIN_API_PORT must be a port number/],
    [{ MODELPIN_MAX_UPLOAD_BYTES: '0' }, /^MODELPIN_MAX_UPLOAD_BYTES must be a whole number of bytes/],
    [{ MODELPIN_BODY_TIMEOUT_MS: '1s' }, /^MODELPIN_BODY_TIMEOUT_MS must be a whole number of milliseconds/],
    [{ MODELPIN_AUTH_FAILURES_PER_MINUTE: '-1' }, /^MODELPIN_AUTH_FAILURES_PER_MINUTE must be a whole number/],
    [{ MODELPIN_AUTO_MIGRATE: 'no' }, /^MODELPIN_AUTO_MIGRATE must be true or false/],
    [{ MODELPIN_PG_CONNECT_TIMEOUT_MS: 'x' }, /^MODELPIN_PG_CONNECT_TIMEOUT_MS must be a whole number/],
    [{ MODELPIN_PG_STATEMENT_TIMEOUT_MS: '0' }, /^MODELPIN_PG_STATEMENT_TIMEOUT_MS must be a whole number/],
    [{ MODELPIN_LOCK_TTL_SECONDS: '0' }, /^MODELPIN_LOCK_TTL_SECONDS must be a whole number of seconds/],
    [{ MODELPIN_RECONCILE_SECONDS: '1.5' }, /^MODELPIN_RECONCILE_SECONDS must be a whole number of seconds/],
    [{ MODELPIN_LIVE_CACHE_MS: '-1' }, /^MODELPIN_LIVE_CACHE_MS must be a whole number of milliseconds/],
    [{ MODELPIN_EVALUATION_CONCURRENCY: '0' }, /^MODELPIN_EVALUATION_CONCURRENCY must be a whole number from 1 to 64/],
    [{ MODELPIN_EVALUATION_INVOKE_TIMEOUT_MS: '10' }, /^MODELPIN_EVALUATION_INVOKE_TIMEOUT_MS must be a whole number from 100/],
    [{ MODELPIN_API_PORT: '70000' }, /^MODELPIN_API_PORT/],
    [{ DATABASE_URL: 'mysql://x:pw@y/z' }, /^DATABASE_URL must be .*mysql:\/\/x:\*\*\*@y\/z/],
    [{ MODELPIN_ADMIN_TOKEN: 'short' }, /^MODELPIN_ADMIN_TOKEN must be at least 16/],
    [{ LOG_LEVEL: 'loud' }, /^LOG_LEVEL must be one of/],
    [{ AWS_ENDPOINT_URL_S3: 'not a url' }, /^AWS_ENDPOINT_URL_S3 must be a URL/],
    [{ AWS_ENDPOINT_URL_LAMBDA: 'ftp://x' }, /^AWS_ENDPOINT_URL_LAMBDA must be an http\(s\) URL/],
    [{ S3_FORCE_PATH_STYLE: 'yes' }, /^S3_FORCE_PATH_STYLE/],
    [{ S3_CHECKSUMS: 'always' }, /^S3_CHECKSUMS/],
    [{ AWS_ENDPOINT_URL_CLOUDWATCH: 'nowhere' }, /^AWS_ENDPOINT_URL_CLOUDWATCH must be a URL/],
    [{ MODELPIN_METRICS_PERIOD_SECONDS: '0' }, /^MODELPIN_METRICS_PERIOD_SECONDS must be a whole number of seconds from 1/],
    [{ MODELPIN_METRICS_DELAY_SECONDS: '-5' }, /^MODELPIN_METRICS_DELAY_SECONDS must be a whole number of seconds from 0/],
  ]
  for (const [env, message] of cases) t.throws(() => loadApiConfig(env), { message }, JSON.stringify(env))
})

t.test('the variables table names every variable the loader reads, each with a default and a description', async (t) => {
  const names = API_ENVIRONMENT.flatMap((v) => v.name.split(', '))
  for (const name of ['MODELPIN_API_HOST', 'MODELPIN_API_PORT', 'MODELPIN_DATA_DIR', 'DATABASE_URL', 'MODELPIN_ADMIN_TOKEN',
    'MODELPIN_UPLOAD_TMP_DIR', 'LOG_LEVEL', 'AWS_ENDPOINT_URL_S3', 'S3_FORCE_PATH_STYLE', 'S3_CHECKSUMS', 'AWS_REGION',
    'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_ENDPOINT_URL_LAMBDA', 'AWS_ENDPOINT_URL_CLOUDWATCH',
    'MODELPIN_METRICS_PERIOD_SECONDS', 'MODELPIN_METRICS_DELAY_SECONDS']) {
    t.ok(names.includes(name), name)
  }
  for (const v of API_ENVIRONMENT) t.ok(v.default !== '' && v.description !== '', v.name)
})
