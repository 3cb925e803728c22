import { stat } from 'node:fs/promises'
import type { AdminApiClient } from '../client/admin-api.js'
import { ApiError } from '../client/errors.js'
import { STACK_DEFAULTS } from './stack-options.js'

/** Where the demo model goes: its registry entry, its S3 keys, its function, and the generated files to upload. */
export interface DemoModel {
  model: string
  bucket: string
  weightsKey: string
  labelsKey: string
  functionName: string
  functionAlias: string
  /** the model's `prewarm` when it is registered (undefined: the registry's default) */
  prewarm?: number | undefined
  files: { weights: string[], labels: string[] }
}

/**
 * Registers the demo model through the admin API, as a user would: two weights and two labels versions, releases
 * 1 and 2, and the deploy alias on release 1. On a kept registry it moves nothing, as long as Lambda serves the alias:
 * only a local runtime that started empty (its saved state missing) gets the alias pushed again.
 */
export async function seedDemoModel (client: AdminApiClient, demo: DemoModel, say: (line: string) => void): Promise<void> {
  const deployAlias = STACK_DEFAULTS.deployAlias
  const existing = await client.getModel(demo.model).catch(notFound)
  if (existing === undefined) {
    await client.createModel({
      name: demo.model,
      bucket: demo.bucket,
      weightsKey: demo.weightsKey,
      labelsKey: demo.labelsKey,
      functionName: demo.functionName,
      functionAlias: demo.functionAlias,
      deployAlias,
      ...(demo.prewarm === undefined ? {} : { prewarm: demo.prewarm }),
    })
    const versions: { weights: string[], labels: string[] } = { weights: [], labels: [] }
    for (const kind of ['weights', 'labels'] as const) {
      for (const [i, file] of demo.files[kind].entries()) {
        say(`model: uploading ${kind} v${i + 1} (${formatBytes((await stat(file)).size)})`)
        const uploaded = await client.uploadFile(demo.model, kind, file)
        versions[kind].push(uploaded.body.versionId)
      }
    }
    for (const i of [0, 1]) {
      const release = await client.createRelease(demo.model, {
        weightsVersionId: versions.weights[i]!, labelsVersionId: versions.labels[i]!, notes: `demo v${i + 1}`,
      })
      say(`registry: release ${release.body.number} = weights v${i + 1} + labels v${i + 1}`)
    }
    say(`registry: promoting release 1 to ${deployAlias} (publishes a Lambda version, moves ${demo.functionAlias})`)
    await client.promote(demo.model, deployAlias, { release: 1, reason: 'local stack: demo model' })
    return
  }

  const alias = await client.getAlias(demo.model, deployAlias).catch(notFound)
  if (alias === undefined) return
  const { release, live } = alias.body
  if (live === null) {
    say(`registry: kept, but Lambda serves nothing for ${deployAlias} (the local runtime had no saved state): ` +
      `pushing release ${release} to it again`)
    await client.promote(demo.model, deployAlias, {
      release, reason: 'local stack restart: the local Lambda runtime had no saved state',
    })
  }
}

/** A 404 as "not there"; any other error stays one. */
function notFound (error: unknown): undefined {
  if (error instanceof ApiError && error.status === 404) return undefined
  throw error
}

function formatBytes (bytes: number): string {
  return bytes >= 2 ** 20 ? `${(bytes / 2 ** 20).toFixed(1)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`
}
