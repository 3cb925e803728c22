import type { ModelPin } from '../contract/pin.js'
import { artifactFacts, artifactLocation } from './artifacts.js'
import { timestamp, type RegistryContext } from './context.js'
import { isUniqueViolation } from './db.js'
import { ReleaseNotFoundError, UnknownReleaseError } from './errors.js'
import type { Model, Release } from './model.js'
import { getModel } from './models.js'
import { toRelease, type ReleaseRow } from './rows.js'
import { checkActor, checkObject, checkReleaseNumber, checkVersionId, optionalText } from './validation.js'

/** Release registrations that race retry their number this often before giving up (each retry means another won). */
const MAX_NUMBER_ATTEMPTS = 100

/**
 * Registers the next release of `model` from a weights and a labels version, both of which must exist in S3.
 * Their sizes and sha256s are recorded (from metadata, or computed by reading the version). Numbers run 1, 2, ...
 * per model without gaps or duplicates, also when registrations race.
 */
export async function createRelease (
  ctx: RegistryContext, model: string, input: { weightsVersionId: string, labelsVersionId: string, notes?: string | null | undefined }, actor: string
): Promise<Release> {
  checkActor(actor)
  const found = await getModel(ctx, model)
  checkObject(input, 'the release')
  checkVersionId('weightsVersionId', input.weightsVersionId)
  checkVersionId('labelsVersionId', input.labelsVersionId)
  const notes = optionalText('notes', input.notes)
  const [weights, labels] = await Promise.all([
    artifactFacts(ctx, artifactLocation(found, 'weights'), input.weightsVersionId, 'weightsVersionId'),
    artifactFacts(ctx, artifactLocation(found, 'labels'), input.labelsVersionId, 'labelsVersionId'),
  ])
  for (let attempt = 1; ; attempt++) {
    const { last } = await ctx.db.selectFrom('releases')
      .select((eb) => eb.fn.max('number').as('last'))
      .where('model', '=', model)
      .executeTakeFirstOrThrow()
    const row: ReleaseRow = {
      model,
      number: Number(last ?? 0) + 1,
      weights_version_id: input.weightsVersionId,
      labels_version_id: input.labelsVersionId,
      weights_sha256: weights.sha256,
      labels_sha256: labels.sha256,
      weights_size: weights.size,
      labels_size: labels.size,
      notes,
      created_at: timestamp(ctx),
      created_by: actor,
    }
    try {
      // (model, number) is the primary key: of two registrations that read the same last number, one inserts
      // and the other retries with the next, so numbers never repeat and no number is skipped
      await ctx.db.insertInto('releases').values(row).execute()
      ctx.logger.info({ model, release: row.number, weightsVersionId: row.weights_version_id, labelsVersionId: row.labels_version_id, actor }, 'release registered')
      return toRelease(row)
    } catch (error) {
      if (!isUniqueViolation(error) || attempt >= MAX_NUMBER_ATTEMPTS) throw error
    }
  }
}

/** The releases of `model`, oldest first. */
export async function listReleases (ctx: RegistryContext, model: string): Promise<Release[]> {
  await getModel(ctx, model)
  const rows = await ctx.db.selectFrom('releases').selectAll().where('model', '=', model).orderBy('number').execute()
  return rows.map(toRelease)
}

/** One release; ReleaseNotFoundError when `model` has no release `number`. */
export async function getRelease (ctx: RegistryContext, model: string, number: number): Promise<Release> {
  await getModel(ctx, model)
  const release = await findRelease(ctx, model, number)
  if (release === undefined) throw new ReleaseNotFoundError(`model ${model} has no release ${String(number)}`)
  return release
}

/** A release named in a request body (`field`): UnknownReleaseError when the model has no such release. */
export async function releaseNamedInBody (ctx: RegistryContext, model: string, number: unknown, field: string): Promise<Release> {
  return await existingRelease(ctx, model, checkReleaseNumber(field, number))
}

/** A release the registry refers to (an alias's, a history entry's): UnknownReleaseError when it is missing. */
export async function existingRelease (ctx: RegistryContext, model: string, number: number): Promise<Release> {
  const release = await findRelease(ctx, model, number)
  if (release === undefined) throw new UnknownReleaseError(`model ${model} has no release ${String(number)}`)
  return release
}

/** The pin that makes the function load exactly `release`'s weights and labels. */
export function pinOf (model: Model, release: Release): ModelPin {
  return {
    bucket: model.bucket,
    weightsKey: model.weightsKey,
    weightsVersionId: release.weightsVersionId,
    weightsSha256: release.weightsSha256,
    labelsKey: model.labelsKey,
    labelsVersionId: release.labelsVersionId,
    labelsSha256: release.labelsSha256,
  }
}

async function findRelease (ctx: RegistryContext, model: string, number: number): Promise<Release | undefined> {
  if (!Number.isInteger(number)) return undefined
  const row = await ctx.db.selectFrom('releases').selectAll().where('model', '=', model).where('number', '=', number).executeTakeFirst()
  return row === undefined ? undefined : toRelease(row)
}
