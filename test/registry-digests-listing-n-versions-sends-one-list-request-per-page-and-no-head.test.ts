import { createHash } from 'node:crypto'
import { Readable } from 'node:stream'
import { PutObjectCommand } from '@aws-sdk/client-s3'
import type { KyselyPlugin } from 'kysely'
import t from 'tap'
import { S3ArtifactStore } from '../src/registry/artifact-store.js'
import type { ArtifactVersion } from '../src/registry/model.js'
import { Registry } from '../src/registry/registry.js'
import { createTestRegistry, DATABASE_KINDS } from './helpers/registry.js'
import { testS3Client } from './helpers/s3.js'

const sha256 = (data: string): string => createHash('sha256').update(data).digest('hex')
const UPLOADED = 8
const PUT_DIRECTLY = 14
const PAGE = 5

interface SentRequest { command: string, method: string, status: number | undefined }

for (const kind of DATABASE_KINDS) {
  t.test(`${kind}: listing ${UPLOADED + PUT_DIRECTLY} versions in pages of ${PAGE} sends one ListObjectVersions per page, no HEAD, and one digest query per page`, async (t) => {
    const { registry, database, s3, bucket } = await createTestRegistry(t, kind)
    await registry.createModel({ name: 'resnet', bucket, weightsKey: 'resnet/model.onnx', labelsKey: 'resnet/labels.txt' }, 'admin')
    const labels = await registry.uploadArtifact('resnet', 'labels', Readable.from(['cat\ndog\n']))
    const expected = new Map<string, string | null>()
    for (let i = 0; i < UPLOADED; i++) {
      const uploaded = await registry.uploadArtifact('resnet', 'weights', Readable.from([`uploaded ${i}`]))
      expected.set(uploaded.versionId, sha256(`uploaded ${i}`))
    }
    for (let i = 0; i < PUT_DIRECTLY; i++) {
      // every other one carries a sha256 in its metadata: the old listing would HEAD it to read that
      const body = `put ${i}`
      const put = await s3.send(new PutObjectCommand({
        Bucket: bucket, Key: 'resnet/model.onnx', Body: body, ...(i % 2 === 0 ? { Metadata: { sha256: sha256(body) } } : {}),
      }))
      expected.set(put.VersionId!, null)
      if (i % 5 === 0) {
        await registry.createRelease('resnet', { weightsVersionId: put.VersionId!, labelsVersionId: labels.versionId }, 'admin')
        expected.set(put.VersionId!, sha256(body))
      }
    }

    // A fresh S3 client whose every HTTP exchange with radosgw is recorded, as it leaves and comes back.
    const observed = testS3Client()
    t.teardown(() => { observed.destroy() })
    const sent: SentRequest[] = []
    observed.middlewareStack.add((next, context) => async (args) => {
      const request = args.request as { method?: string }
      const result = await next(args)
      const response = (result as { response?: { statusCode?: number } }).response
      sent.push({ command: context.commandName ?? '?', method: request.method ?? '?', status: response?.statusCode })
      return result
    }, { step: 'deserialize', name: 'recordSentRequests' })
    // Every SQL statement the registry runs, as compiled for this dialect.
    const statements: string[] = []
    const recorder: KyselyPlugin = {
      transformQuery: (args) => {
        statements.push(database.db.getExecutor().compileQuery(args.node, args.queryId).sql)
        return args.node
      },
      transformResult: async (args) => args.result,
    }
    // A new store and registry (a fresh process, nothing remembered) over the same database.
    const replica = new Registry({ db: database.db.withPlugin(recorder), store: new S3ArtifactStore({ s3: observed }) })

    const walked: ArtifactVersion[] = []
    let pages = 0
    let cursor: string | undefined
    do {
      const page = await replica.listArtifactVersions('resnet', 'weights', { limit: PAGE, ...(cursor === undefined ? {} : { cursor }) })
      walked.push(...page.versions)
      cursor = page.nextCursor ?? undefined
      pages++
    } while (cursor !== undefined)

    const total = UPLOADED + PUT_DIRECTLY
    t.equal(walked.length, total)
    t.equal(pages, Math.ceil(total / PAGE))
    t.same(new Map(walked.map((v) => [v.versionId, v.sha256])), expected,
      'uploads and registered versions list with their digests, the rest with null')

    t.same(sent.filter((r) => r.method === 'HEAD'), [], 'not one HEAD request')
    t.same(sent.map((r) => `${r.method} ${r.command} ${String(r.status)}`), Array(pages).fill('GET ListObjectVersionsCommand 200'),
      'exactly one ListObjectVersions request per page, nothing else')
    const digestQueries = statements.filter((sql) => sql.includes('artifact_digests'))
    t.equal(digestQueries.length, pages, 'one digest query per page')
    t.ok(digestQueries.every((sql) => /^select /i.test(sql)), 'and it only reads')

    // One page of everything: still one request and one query.
    sent.length = 0
    statements.length = 0
    const whole = await replica.listArtifactVersions('resnet', 'weights', { limit: 1000 })
    t.same(whole.versions, walked, 'the same entries')
    t.equal(sent.length, 1, 'one request')
    t.equal(statements.filter((sql) => sql.includes('artifact_digests')).length, 1, 'one digest query')
  })
}
