import fp from 'fastify-plugin'
import type { S3Client } from '@aws-sdk/client-s3'
import { createS3Client } from '../../../aws/s3-client.js'
import { rmdir } from 'node:fs/promises'
import { S3ArtifactStore, type ArtifactStore } from '../../../registry/artifact-store.js'
import { componentLogger } from '../../logging.js'
import { prepareSpoolFolder } from '../../upload-spool.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** the one S3 client of the app (it pools connections) */
    s3: S3Client
    /** model artifacts (weights and labels versions) in S3 */
    artifacts: ArtifactStore
  }
}

export interface S3PluginOptions {
  /** explicit credentials (tests); by default the SDK's chain (environment, profile, role) */
  credentials?: { accessKeyId: string, secretAccessKey: string } | undefined
}

/**
 * One S3 client built from the configuration's S3 settings, and the artifact store over it, spooling uploads in
 * this process's own folder under MODELPIN_UPLOAD_TMP_DIR (see upload-spool.ts), removed when the app closes.
 */
export default fp<S3PluginOptions>(async function s3Plugin (fastify, options) {
  const spoolFolder = await prepareSpoolFolder(fastify.config.uploadTmpDir, { logger: componentLogger(fastify, 'upload-spool') })
  const client = createS3Client(fastify.config.s3, options.credentials)
  fastify.decorate('s3', client)
  fastify.decorate('artifacts', new S3ArtifactStore({ s3: client, tmpDir: spoolFolder }))
  fastify.addHook('onClose', async () => {
    client.destroy()
    // each upload removes its own file; an app of the same process may still be using the folder (tests): then it stays
    await rmdir(spoolFolder).catch(() => {})
  })
}, { name: 's3', dependencies: ['config'] })
