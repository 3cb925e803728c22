import { createHash, randomBytes } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Transform, Writable, type Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import {
  GetObjectCommand, HeadObjectCommand, ListBucketsCommand, ListObjectVersionsCommand, PutObjectCommand,
  type DeleteMarkerEntry, type ObjectVersion, type S3Client,
} from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import { MAX_LIST_LIMIT } from '../contract/limits.js'
import { isSha256 } from '../contract/rules.js'
import { classifyS3Error, httpStatusOf, isNotFound } from '../aws/s3-errors.js'
import { BucketNotFoundError, InvalidInputError, VersionNotFoundError } from './errors.js'
import type { ArtifactVersion, S3Location } from './model.js'

/** Where model artifacts live and how their versions are read and written. The one implementation is S3. */
export interface ArtifactStore {
  /**
   * Versions of exactly `loc.key`, newest first, delete markers included and flagged; `cursor` is opaque. One S3
   * listing request: S3 lists no user metadata, so `sha256` is null here (the registry fills in what it recorded).
   */
  listVersions (loc: S3Location, page: { limit: number, cursor?: string | undefined }): Promise<{ versions: ArtifactVersion[], nextCursor: string | null }>
  /** One version's size, digest and tag; null when that version does not exist (or is a delete marker). */
  headVersion (loc: S3Location, versionId: string): Promise<ArtifactHead | null>
  /** Stores `body` as exactly one new version, in constant memory; the sha256 is stored as user metadata `sha256`. */
  upload (loc: S3Location, body: Readable, options?: UploadOptions): Promise<{ versionId: string, size: number, sha256: string }>
  /** The bytes of one version; VersionNotFoundError when it does not exist. */
  readVersion (loc: S3Location, versionId: string): Promise<Readable>
  /** The sha256 (lowercase hex) of one version's bytes, computed by streaming them. */
  sha256Of (loc: S3Location, versionId: string): Promise<string>
  /** A cheap request proving that S3 answers. */
  ping (): Promise<void>
  /**
   * The current objects under `prefix` of `bucket` (the latest version of each key, delete markers left out), at most
   * `max` of them, modified after `modifiedAfter` when given; BucketNotFoundError when the bucket does not exist.
   */
  listCurrentObjects (bucket: string, prefix: string, options: { max: number, modifiedAfter?: Date | undefined }): Promise<CurrentObject[]>
}

/** An object as its bucket holds it now: its key, the VersionId of its latest version (null if unversioned) and its age. */
export interface CurrentObject { key: string, versionId: string | null, lastModified: string }

export interface ArtifactHead { size: number, sha256: string | null, etag: string | null, lastModified: string }

export interface UploadOptions {
  contentType?: string | undefined
  /** called with the number of bytes received so far */
  onProgress?: ((bytes: number) => void) | undefined
}

export interface S3ArtifactStoreOptions {
  s3: S3Client
  /** where uploads are spooled while hashed (default: the OS temporary folder) */
  tmpDir?: string | undefined
  /** above this size an upload goes as one multipart upload (still one version); default 1 GiB */
  multipartThresholdBytes?: number | undefined
  /**
   * size of each part of a multipart upload (S3's minimum is 5 MiB; larger when the object needs it to fit S3's
   * 10,000 parts); default 16 MiB. Up to `MULTIPART_QUEUE_SIZE` parts are in memory at once.
   */
  partSizeBytes?: number | undefined
}

/** The user metadata key that carries an object's sha256 (`x-amz-meta-sha256`). */
export const SHA256_METADATA_KEY = 'sha256'
/** S3's smallest part (all but the last) of a multipart upload. */
const S3_MIN_PART_BYTES = 5 * 1024 * 1024
/** S3 accepts at most 10,000 parts in one multipart upload. */
const S3_MAX_PARTS = 10_000
/** A single PutObject may carry at most 5 GiB. */
const S3_MAX_PUT_BYTES = 5 * 1024 ** 3
/**
 * Parts sent at once by a multipart upload (lib-storage's default). Each is held in memory while it is sent: with
 * 16 MiB parts a multipart upload measured about 95 MB of RSS growth here, whatever the object's size.
 */
const MULTIPART_QUEUE_SIZE = 4

/** The ArtifactStore over S3 (AWS or radosgw: endpoint, path style and checksums come from the client). */
export class S3ArtifactStore implements ArtifactStore {
  readonly #s3: S3Client
  readonly #tmpDir: string
  readonly #multipartThreshold: number
  readonly #partSize: number

  constructor (options: S3ArtifactStoreOptions) {
    this.#s3 = options.s3
    this.#tmpDir = options.tmpDir ?? tmpdir()
    this.#partSize = Math.max(options.partSizeBytes ?? 16 * 1024 * 1024, S3_MIN_PART_BYTES)
    this.#multipartThreshold = Math.min(options.multipartThresholdBytes ?? 1024 ** 3, S3_MAX_PUT_BYTES)
  }

  async listVersions (loc: S3Location, page: { limit: number, cursor?: string | undefined }): Promise<{ versions: ArtifactVersion[], nextCursor: string | null }> {
    if (!Number.isInteger(page.limit) || page.limit < 1 || page.limit > MAX_LIST_LIMIT) {
      throw new InvalidInputError(`limit must be an integer from 1 to ${MAX_LIST_LIMIT}`)
    }
    const marker = page.cursor === undefined ? undefined : decodeCursor(page.cursor, loc.key)
    let response
    try {
      response = await this.#s3.send(new ListObjectVersionsCommand({
        Bucket: loc.bucket,
        // A prefix also lists longer keys that start with this one; they sort after it, so they come last.
        Prefix: loc.key,
        MaxKeys: page.limit,
        KeyMarker: marker?.keyMarker,
        VersionIdMarker: marker?.versionIdMarker,
      }))
    } catch (error) {
      if (classifyS3Error(error) === 'bucket-not-found') throw new BucketNotFoundError(`bucket ${loc.bucket} does not exist`, { cause: error })
      throw error
    }
    const versions = (response.Versions ?? []).filter((v) => v.Key === loc.key)
    const markers = (response.DeleteMarkers ?? []).filter((m) => m.Key === loc.key)
    const sawOtherKey = (response.Versions?.length ?? 0) + (response.DeleteMarkers?.length ?? 0) > versions.length + markers.length
    const entries = mergeNewestFirst(versions, markers)
    const more = response.IsTruncated === true && !sawOtherKey && response.NextKeyMarker === loc.key &&
      response.NextVersionIdMarker !== undefined
    return {
      versions: entries,
      nextCursor: more ? encodeCursor({ keyMarker: loc.key, versionIdMarker: response.NextVersionIdMarker! }) : null,
    }
  }

  async listCurrentObjects (bucket: string, prefix: string, options: { max: number, modifiedAfter?: Date | undefined }): Promise<CurrentObject[]> {
    const found: CurrentObject[] = []
    let keyMarker: string | undefined
    let versionIdMarker: string | undefined
    // ListObjectVersions rather than ListObjectsV2: it names each object's VersionId, which the caller stores so that
    // reading the object later reads these bytes even if the key is written again meanwhile
    for (;;) {
      let response
      try {
        response = await this.#s3.send(new ListObjectVersionsCommand({
          Bucket: bucket, Prefix: prefix === '' ? undefined : prefix, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker, MaxKeys: 1000,
        }))
      } catch (error) {
        if (classifyS3Error(error) === 'bucket-not-found') throw new BucketNotFoundError(`bucket ${bucket} does not exist`, { cause: error })
        throw error
      }
      for (const version of response.Versions ?? []) {
        if (version.IsLatest !== true || version.Key === undefined) continue
        if (found.length >= options.max) return found
        const lastModified = version.LastModified ?? new Date(0)
        if (options.modifiedAfter !== undefined && lastModified <= options.modifiedAfter) continue
        found.push({
          key: version.Key,
          versionId: version.VersionId === undefined || version.VersionId === 'null' ? null : version.VersionId,
          lastModified: lastModified.toISOString(),
        })
      }
      if (response.IsTruncated !== true || response.NextKeyMarker === undefined) return found
      keyMarker = response.NextKeyMarker
      versionIdMarker = response.NextVersionIdMarker
    }
  }

  async headVersion (loc: S3Location, versionId: string): Promise<ArtifactHead | null> {
    let response
    try {
      response = await this.#s3.send(new HeadObjectCommand({ Bucket: loc.bucket, Key: loc.key, VersionId: versionId }))
    } catch (error) {
      if (isNotFound(classifyS3Error(error, { versionId }))) return null
      throw error
    }
    if (response.DeleteMarker === true) return null
    return {
      size: response.ContentLength ?? 0,
      sha256: sha256FromMetadata(response.Metadata),
      etag: unquote(response.ETag),
      lastModified: (response.LastModified ?? new Date(0)).toISOString(),
    }
  }

  async upload (loc: S3Location, body: Readable, options: UploadOptions = {}): Promise<{ versionId: string, size: number, sha256: string }> {
    const path = join(this.#tmpDir, `modelpin-upload-${randomBytes(8).toString('hex')}`)
    try {
      const spooled = await spool(body, path, options.onProgress)
      if (spooled.size === 0) throw new InvalidInputError('the upload is empty: send the artifact\'s bytes as the body')
      const request = {
        Bucket: loc.bucket,
        Key: loc.key,
        ContentType: options.contentType ?? 'application/octet-stream',
        Metadata: { [SHA256_METADATA_KEY]: spooled.sha256 },
      }
      let versionId: string | undefined
      // Below the threshold one PutObject streams the spooled file from disk and S3 checks it against its MD5;
      // lib-storage's Upload would first read it into memory (it buffers every part, a single one included).
      if (spooled.size <= this.#multipartThreshold) {
        const response = await this.#s3.send(new PutObjectCommand({
          ...request,
          Body: createReadStream(path),
          ContentLength: spooled.size,
          // S3 checks the bytes it received against this and refuses the put on a mismatch
          ContentMD5: spooled.md5,
        }))
        versionId = response.VersionId
      } else {
        const upload = new Upload({
          client: this.#s3,
          params: { ...request, Body: createReadStream(path), ContentLength: spooled.size },
          // parts large enough for S3's 10,000-part limit, rounded up to whole MiB
          partSize: Math.max(this.#partSize, Math.ceil(spooled.size / S3_MAX_PARTS / 1024 ** 2) * 1024 ** 2),
          queueSize: MULTIPART_QUEUE_SIZE,
        })
        // on failure Upload aborts the multipart upload, so no orphaned parts are left behind
        versionId = (await upload.done()).VersionId
      }
      if (versionId === undefined || versionId === '' || versionId === 'null') {
        throw new Error(`bucket ${loc.bucket} is not versioned: the upload replaced ${loc.key} instead of adding a version`)
      }
      return { versionId, size: spooled.size, sha256: spooled.sha256 }
    } finally {
      await rm(path, { force: true })
    }
  }

  async readVersion (loc: S3Location, versionId: string): Promise<Readable> {
    try {
      const response = await this.#s3.send(new GetObjectCommand({ Bucket: loc.bucket, Key: loc.key, VersionId: versionId }))
      return response.Body as Readable
    } catch (error) {
      if (isNotFound(classifyS3Error(error, { versionId }))) throw versionNotFound(loc, versionId, error)
      throw error
    }
  }

  async sha256Of (loc: S3Location, versionId: string): Promise<string> {
    const hash = createHash('sha256')
    await pipeline(await this.readVersion(loc, versionId), new Writable({
      write (chunk: Buffer, _encoding, done) {
        hash.update(chunk)
        done()
      },
    }))
    return hash.digest('hex')
  }

  async ping (): Promise<void> {
    try {
      await this.#s3.send(new ListBucketsCommand({}))
    } catch (error) {
      // A refusal (e.g. 403 without s3:ListAllMyBuckets) still proves that S3 is there and answering; credentials
      // that S3 does not know or cannot verify mean no request of ours would succeed, so those are not ready.
      const kind = classifyS3Error(error)
      if (kind === 'credentials-rejected') throw error
      const status = httpStatusOf(error)
      if (status !== undefined && status >= 400 && status < 500) return
      throw error
    }
  }
}

/** Writes `body` to a new file at `path` while hashing it; memory stays at the stream's buffers. */
async function spool (body: Readable, path: string, onProgress?: (bytes: number) => void): Promise<{ size: number, sha256: string, md5: string }> {
  const sha256 = createHash('sha256')
  const md5 = createHash('md5')
  let size = 0
  await pipeline(body, new Transform({
    transform (chunk: Buffer, _encoding, done) {
      sha256.update(chunk)
      md5.update(chunk)
      size += chunk.length
      onProgress?.(size)
      done(null, chunk)
    },
  }), createWriteStream(path, { flags: 'wx', mode: 0o600 }))
  return { size, sha256: sha256.digest('hex'), md5: md5.digest('base64') }
}

/**
 * Puts versions and delete markers (S3 returns them in two lists) back in one newest-first order. S3's own order
 * interleaves them; within each list it is kept. On equal timestamps (AWS stores whole seconds) the latest entry
 * goes first, then the delete marker, which is the usual reason for two entries in one second (put, then delete).
 */
function mergeNewestFirst (versions: ObjectVersion[], markers: DeleteMarkerEntry[]): ArtifactVersion[] {
  const out: ArtifactVersion[] = []
  let v = 0
  let m = 0
  while (v < versions.length || m < markers.length) {
    const version = versions[v]
    const marker = markers[m]
    const takeVersion = marker === undefined || (version !== undefined && newer(version, marker))
    if (takeVersion && version !== undefined) {
      out.push({
        versionId: version.VersionId ?? 'null',
        isLatest: version.IsLatest === true,
        lastModified: (version.LastModified ?? new Date(0)).toISOString(),
        size: version.Size ?? null,
        etag: unquote(version.ETag),
        deleteMarker: false,
        sha256: null,
      })
      v++
    } else if (marker !== undefined) {
      out.push({
        versionId: marker.VersionId ?? 'null',
        isLatest: marker.IsLatest === true,
        lastModified: (marker.LastModified ?? new Date(0)).toISOString(),
        size: null,
        etag: null,
        deleteMarker: true,
        sha256: null,
      })
      m++
    }
  }
  return out
}

function newer (version: ObjectVersion, marker: DeleteMarkerEntry): boolean {
  const a = version.LastModified?.getTime() ?? 0
  const b = marker.LastModified?.getTime() ?? 0
  if (a !== b) return a > b
  return version.IsLatest === true
}

interface Cursor { keyMarker: string, versionIdMarker: string }

function encodeCursor (cursor: Cursor): string {
  return Buffer.from(JSON.stringify({ k: cursor.keyMarker, v: cursor.versionIdMarker })).toString('base64url')
}

function decodeCursor (cursor: string, key: string): Cursor {
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
  } catch {
    throw new InvalidInputError('cursor is not one this listing returned')
  }
  const { k, v } = (parsed ?? {}) as { k?: unknown, v?: unknown }
  if (typeof k !== 'string' || typeof v !== 'string') throw new InvalidInputError('cursor is not one this listing returned')
  if (k !== key) throw new InvalidInputError('cursor belongs to the listing of another key')
  return { keyMarker: k, versionIdMarker: v }
}

function sha256FromMetadata (metadata: Record<string, string> | undefined): string | null {
  const value = metadata?.[SHA256_METADATA_KEY]?.trim().toLowerCase()
  return isSha256(value) ? value : null
}

function unquote (etag: string | undefined): string | null {
  if (etag === undefined || etag === '') return null
  return etag.replace(/^"(.*)"$/, '$1')
}

/** The domain error for a version that does not exist, naming exactly which one. */
export function versionNotFound (loc: S3Location, versionId: string, cause?: unknown): VersionNotFoundError {
  return new VersionNotFoundError(
    `s3://${loc.bucket}/${loc.key} has no version ${versionId} (unknown VersionId, or a delete marker)`,
    cause === undefined ? undefined : { cause })
}
