import { Ajv, type ValidateFunction } from 'ajv'
import formats from 'ajv-formats'
import fc from 'fast-check'
import t from 'tap'
import { ERROR_CODES, STATUS_BY_CODE, isErrorCode } from '../src/api/errors.js'
import { build } from './helpers/app.js'
import { snapshotTables } from './helpers/database-snapshot.js'
import { DATABASE_KINDS } from './helpers/registry.js'

/**
 * Property-based fuzzing of the admin API from its own route schemas (the OpenAPI document the app generates): for
 * every /v1 route, malformed bodies, queries, path names and headers get a 4xx with the error shape, and no row of
 * any table changes (the calling token's last_used_at aside). Seeded: a failure prints the seed and path that replay
 * it (MODELPIN_FUZZ_SEED=<seed>); MODELPIN_FUZZ_API_RUNS sets the number of cases.
 */
const SEED = Number(process.env.MODELPIN_FUZZ_SEED ?? 20261203)
const RUNS: Record<string, number> = {
  sqlite: Number(process.env.MODELPIN_FUZZ_API_RUNS ?? 2500),
  postgres: Math.ceil(Number(process.env.MODELPIN_FUZZ_API_RUNS ?? 2500) / 4),
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
interface Parameter { in: 'path' | 'query' | 'header', name: string, schema: object }
interface Route { method: Method, path: string, params: Parameter[], body: object | undefined }
interface FuzzRequest { method: Method, url: string, headers: Record<string, string>, payload?: string | Buffer, what: string }

/** Fastify's own Ajv settings (coercion, defaults), so "invalid" here means invalid to the app too. */
const ajv = new Ajv({ coerceTypes: 'array', useDefaults: true, removeAdditional: false, strict: false, allErrors: false })
// ajv-formats is CommonJS: its function is the default export's default
const addFormats = (formats as unknown as { default: (ajv: Ajv) => void }).default
addFormats(ajv)
const validators = new Map<object, ValidateFunction>()
function valid (schema: object, value: unknown): boolean {
  const check = validators.get(schema) ?? ajv.compile(schema)
  validators.set(schema, check)
  // coercion rewrites what it checks: check a copy
  return check(structuredClone(value))
}

const IF_MATCH = /^\s*(?:"(\d{1,15})"|(\d{1,15}))\s*$/
const printable = fc.stringMatching(/^[\x20-\x7e]{0,60}$/)
const anyText = fc.oneof(fc.string({ maxLength: 80 }), fc.string({ unit: 'grapheme', maxLength: 20 }), printable,
  fc.constantFrom('', ' ', '..', '../x', '%00', 'a%2Fb', 'x'.repeat(300), '\u0000', 'Ω', '-1', '0', '1e3', 'null', 'true', '[]', '{}'))
const anyJson = fc.jsonValue({ maxDepth: 3 })

for (const database of DATABASE_KINDS) {
  t.test(`${database}: malformed requests to every route get a 4xx with the error shape and change nothing`, async (t) => {
    // failed authentications are part of the fuzz: the per-address limit would turn them into 429s (also fine, but
    // then the later cases would not reach what they aim at)
    const app = await build(t, { database, config: { authFailuresPerMinute: 1_000_000 } })
    const [first] = await app.modelWithReleases('fuzz', 2)
    t.equal((await app.api('POST', '/v1/models/fuzz/aliases/production/promote', { body: { release: 1 } })).status, 200)
    const viewer = await app.api('POST', '/v1/tokens', { body: { name: 'fuzz-viewer', role: 'viewer' } })
    const existing = { model: 'fuzz', alias: 'production', kind: 'weights', number: '1', id: viewer.body.id as string }
    const taken = new Set(['fuzz', 'production', 'weights', 'labels', '1', '2', viewer.body.id, first!.weightsVersionId])

    const doc = (app.app as unknown as { swagger: () => { paths: Record<string, Record<string, any>> } }).swagger()
    const routes: Route[] = []
    for (const [path, item] of Object.entries(doc.paths)) {
      if (!path.startsWith('/v1/')) continue
      for (const [method, operation] of Object.entries(item)) {
        routes.push({
          method: method.toUpperCase() as Method,
          path,
          params: (operation.parameters ?? []) as Parameter[],
          body: operation.requestBody?.content?.['application/json']?.schema,
        })
      }
    }
    t.ok(routes.length >= 20, `${routes.length} routes from the OpenAPI document`)

    const urlOf = (route: Route, values: Record<string, string> = {}, query = ''): string =>
      route.path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(values[name] ?? existing[name as keyof typeof existing] ?? 'x')) + query
    const auth = { authorization: `Bearer ${app.adminToken}` }
    const json = { ...auth, 'content-type': 'application/json' }
    const invalidBody = (route: Route): fc.Arbitrary<string> => fc.oneof(
      // any JSON the route's body schema refuses
      anyJson.filter((value) => route.body === undefined || !valid(route.body, value)).map((value) => JSON.stringify(value)),
      // the body's own fields with one unknown beside them, or wrong values
      fc.dictionary(fc.constantFrom(...Object.keys((route.body as { properties?: object } | undefined)?.properties ?? { x: 0 }), 'unknownField'), anyJson, { minKeys: 1 })
        .filter((value) => route.body === undefined || !valid(route.body, value)).map((value) => JSON.stringify(value)),
      // not JSON at all
      fc.oneof(printable, fc.constantFrom('{', '{"name":', '[1,', '\u0000', 'undefined', '{"a":1}{"b":2}'))
        .filter((text) => { try { return route.body !== undefined && !valid(route.body, JSON.parse(text)) } catch { return true } })
    )
    // a body only when the route takes one: GET and DELETE without a body schema send none
    const bodyFor = (route: Route): fc.Arbitrary<string | undefined> => route.body === undefined
      ? fc.constant(undefined)
      : invalidBody(route)

    const requestsOf = (route: Route): fc.Arbitrary<FuzzRequest> => {
      const kinds: Array<fc.Arbitrary<FuzzRequest>> = []
      const pathParams = route.params.filter((p) => p.in === 'path')
      const queryParams = route.params.filter((p) => p.in === 'query')
      if (route.body !== undefined) {
        kinds.push(invalidBody(route).map((payload) => ({ method: route.method, url: urlOf(route), headers: json, payload, what: 'body' })))
        // a JSON body sent as something else
        kinds.push(fc.tuple(printable.filter((type) => !/json/i.test(type) && type.trim() !== ''), anyJson).map(([type, value]) =>
          ({ method: route.method, url: urlOf(route), headers: { ...auth, 'content-type': type }, payload: JSON.stringify(value), what: 'content-type' })))
      }
      for (const param of pathParams) {
        // any name the parameter's schema refuses, or a well-formed one that names nothing
        kinds.push(fc.tuple(anyText.filter((text) => !taken.has(text) && text !== ''), bodyFor(route)).map(([text, payload]) => ({
          method: route.method,
          url: urlOf(route, { [param.name]: text }),
          headers: payload === undefined ? auth : json,
          ...(payload === undefined ? {} : { payload }),
          what: `path ${param.name}`,
        })))
      }
      if (queryParams.length > 0) {
        const names = queryParams.map((p) => p.name)
        const query = fc.dictionary(fc.oneof(fc.constantFrom(...names), fc.constantFrom('unknown', 'limit[]', '__proto__')), anyText, { minKeys: 1, maxKeys: 3 })
          .filter((entries) => Object.entries(entries).some(([name, value]) => {
            const param = queryParams.find((p) => p.name === name)
            // an unknown name, a value its schema refuses, or a cursor (any text that is not one this API made)
            return param === undefined || !valid(param.schema, value) || name === 'cursor'
          }))
        kinds.push(query.map((entries) => ({
          method: route.method,
          url: urlOf(route, {}, `?${new URLSearchParams(entries).toString()}`),
          headers: auth,
          what: 'query',
        })))
      }
      if (route.params.some((p) => p.in === 'header' && p.name === 'if-match')) {
        // an If-Match that is no revision, on a request that is otherwise fine
        const body = VALID_MOVE_BODIES[route.path.split('/').slice(-1)[0]!] ?? {}
        kinds.push(printable.filter((value) => !IF_MATCH.test(value)).map((value) => ({
          method: route.method, url: urlOf(route), headers: { ...json, 'if-match': value }, payload: JSON.stringify(body), what: 'if-match',
        })))
      }
      // free text (reason, notes) that the schema refuses inside an otherwise fine body: a NUL, or too long
      const textField = ['reason', 'notes'].find((field) => (route.body as { properties?: Record<string, unknown> } | undefined)?.properties?.[field] !== undefined)
      if (textField !== undefined) {
        const body = VALID_MOVE_BODIES[route.path.split('/').slice(-1)[0]!] ?? VALID_RELEASE_BODY(first!)
        kinds.push(fc.tuple(fc.string({ maxLength: 30 }), fc.string({ maxLength: 30 }), fc.constantFrom('\u0000', 'x'.repeat(4001))).map(([before, after, bad]) => ({
          method: route.method,
          url: urlOf(route),
          headers: json,
          payload: JSON.stringify({ ...(body as object), [textField]: `${before}${bad}${after}` }),
          what: `${textField} text`,
        })))
      }
      // a token that is not one, or no scheme
      kinds.push(fc.tuple(printable, fc.constantFrom('Bearer ', 'bearer  ', 'Basic ', '', 'Bearer')).map(([token, scheme]) => ({
        method: route.method, url: urlOf(route), headers: { authorization: `${scheme}${token}` }, what: 'authorization',
      })))
      return fc.oneof(...kinds)
    }

    // snapshotTables leaves out last_used_at, which any request with a token may set
    const before = await snapshotTables(app.app.database.db)
    t.ok((before.api_tokens ?? []).length >= 2, 'the tokens are in the snapshot')
    const seen = new Map<string, number>()
    let cases = 0
    await fc.assert(fc.asyncProperty(fc.constantFrom(...routes).chain(requestsOf), async (request) => {
      cases++
      const response = await app.app.inject({ method: request.method, url: request.url, headers: request.headers, ...(request.payload === undefined ? {} : { payload: request.payload }) })
      const where = `${request.method} ${request.url} (${request.what}) answered ${response.statusCode}: ${response.body.slice(0, 300)}`
      if (response.statusCode < 400 || response.statusCode > 499) throw new Error(`not a 4xx: ${where}`)
      const body = JSON.parse(response.body) as { error?: { code?: unknown, message?: unknown } }
      if (Object.keys(body).join() !== 'error' || typeof body.error?.message !== 'string' || Object.keys(body.error).sort().join() !== 'code,message') {
        throw new Error(`not the error shape: ${where}`)
      }
      if (!isErrorCode(body.error.code) || STATUS_BY_CODE[body.error.code] !== response.statusCode) throw new Error(`not a documented code with its status (${String(body.error.code)}): ${where}`)
      seen.set(body.error.code, (seen.get(body.error.code) ?? 0) + 1)
    }), { seed: SEED, numRuns: RUNS[database] })
    t.same(await snapshotTables(app.app.database.db), before, 'no row changed in any table (last_used_at aside)')
    t.pass(`${cases} generated requests; answers by code ${JSON.stringify(Object.fromEntries(seen))}`)
    t.ok([...seen.keys()].every((code) => code in ERROR_CODES) && seen.size >= 5, 'the cases reach many codes')
  })
}

/** A release body that is fine but for the field the case spoils. */
const VALID_RELEASE_BODY = (release: { weightsVersionId: string, labelsVersionId: string }): unknown =>
  ({ weightsVersionId: release.weightsVersionId, labelsVersionId: release.labelsVersionId })

/** Bodies a move accepts, for the If-Match cases: only the header is wrong. */
const VALID_MOVE_BODIES: Record<string, unknown> = {
  promote: { release: 2 },
  rollback: {},
  canary: { release: 2, weight: 0.5 },
  '{model}': {},
}
