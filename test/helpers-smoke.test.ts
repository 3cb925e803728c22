import t from 'tap'
import { PutObjectCommand, ListObjectVersionsCommand } from '@aws-sdk/client-s3'
import { createTestBucket, testS3Client } from './helpers/s3.js'
import { createTestDatabase } from './helpers/pg.js'
import pg from 'pg'

t.test('radosgw keeps one version per put in a test bucket', async (t) => {
  const s3 = testS3Client()
  const bucket = await createTestBucket(t, s3)
  const a = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'one' }))
  const b = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'two' }))
  t.ok(a.VersionId)
  t.not(a.VersionId, b.VersionId)
  const list = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: 'k' }))
  t.equal(list.Versions?.length, 2)
})

t.test('a test database is empty and usable', async (t) => {
  const url = await createTestDatabase(t)
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  const r = await c.query('select count(*)::int as n from information_schema.tables where table_schema = \'public\'')
  await c.end()
  t.equal(r.rows[0].n, 0)
})
