import type { Readable } from 'node:stream'
import { versionNotFound } from './artifact-store.js'
import { timestamp, type RegistryContext } from './context.js'
import type { ArtifactKind, ArtifactVersion, Model, S3Location } from './model.js'
import { getModel } from './models.js'
import { checkKind } from './validation.js'

/** What the registry knows of one S3 version of an artifact. */
export interface ArtifactFacts { size: number, sha256: string }

/** Where a model's weights or labels live. */
export function artifactLocation (model: Model, kind: ArtifactKind): S3Location {
  return { bucket: model.bucket, key: kind === 'weights' ? model.weightsKey : model.labelsKey }
}

/**
 * The S3 versions of a model's weights or labels, newest first: one S3 listing request and one query for the
 * digests the registry recorded (uploads, registered releases); sha256 is null for any other version.
 */
export async function listArtifactVersions (
  ctx: RegistryContext, model: string, kind: ArtifactKind, page: { limit: number, cursor?: string | undefined }
): Promise<{ versions: ArtifactVersion[], nextCursor: string | null }> {
  const found = await getModel(ctx, model)
  const loc = artifactLocation(found, checkKind(kind))
  const listed = await ctx.store.listVersions(loc, page)
  const known = await recordedDigests(ctx, loc, listed.versions.filter((v) => !v.deleteMarker).map((v) => v.versionId))
  for (const version of listed.versions) version.sha256 = version.deleteMarker ? null : known.get(version.versionId) ?? null
  return listed
}

/** Streams `body` to S3 as one new version of the model's weights or labels, in constant memory. */
export async function uploadArtifact (
  ctx: RegistryContext, model: string, kind: ArtifactKind, body: Readable, options: { contentType?: string | undefined } = {}
): Promise<{ versionId: string, size: number, sha256: string }> {
  const found = await getModel(ctx, model)
  const loc = artifactLocation(found, checkKind(kind))
  const uploaded = await ctx.store.upload(loc, body, { contentType: options.contentType })
  ctx.logger.info({ model, kind, versionId: uploaded.versionId, size: uploaded.size, sha256: uploaded.sha256 }, 'artifact uploaded')
  try {
    await recordDigest(ctx, loc, uploaded.versionId, uploaded)
  } catch (error) {
    // The version exists in S3 (with its sha256 metadata) whatever happens here: failing the request would make
    // the client upload it again as another version. Unrecorded, it lists without a digest until a release reads it.
    ctx.logger.warn({ err: error, model, kind, versionId: uploaded.versionId }, 'the uploaded version\'s digest could not be recorded')
  }
  return uploaded
}

/**
 * Where a version's digest comes from, in one place. An upload through the registry records the sha256 of the
 * bytes it streamed (uploadArtifact). A version named in a release must exist; its digest is the one recorded
 * before, else its `sha256` metadata, else computed by streaming its bytes, and is recorded from then on. Nothing
 * else writes a digest, so a listing reports one only for versions the registry has recorded.
 */
export async function artifactFacts (ctx: RegistryContext, loc: S3Location, versionId: string, field: string): Promise<ArtifactFacts> {
  const head = await ctx.store.headVersion(loc, versionId)
  if (head === null) {
    const missing = versionNotFound(loc, versionId)
    missing.message = `${field}: ${missing.message}`
    throw missing
  }
  const recorded = (await recordedDigests(ctx, loc, [versionId])).get(versionId)
  if (recorded !== undefined) return { size: head.size, sha256: recorded }
  const facts = { size: head.size, sha256: head.sha256 ?? await ctx.store.sha256Of(loc, versionId) }
  await recordDigest(ctx, loc, versionId, facts)
  return facts
}

/** Records what the registry learnt of one version; versions never change, so a row once written stays. */
async function recordDigest (ctx: RegistryContext, loc: S3Location, versionId: string, facts: ArtifactFacts): Promise<void> {
  await ctx.db.insertInto('artifact_digests')
    .values({ bucket: loc.bucket, key: loc.key, version_id: versionId, sha256: facts.sha256, size: facts.size, recorded_at: timestamp(ctx) })
    // another registration of the same version got there first, with the same facts
    .onConflict((conflict) => conflict.columns(['bucket', 'key', 'version_id']).doNothing())
    .execute()
}

/** The recorded digests of some versions of one object, by VersionId, in one query. */
async function recordedDigests (ctx: RegistryContext, loc: S3Location, versionIds: string[]): Promise<Map<string, string>> {
  if (versionIds.length === 0) return new Map()
  const rows = await ctx.db.selectFrom('artifact_digests').select(['version_id', 'sha256'])
    .where('bucket', '=', loc.bucket).where('key', '=', loc.key).where('version_id', 'in', versionIds)
    .execute()
  return new Map(rows.map((row) => [row.version_id, row.sha256]))
}
