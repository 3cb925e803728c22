import { open, stat } from 'node:fs/promises'

/** What an upload tells its caller as it goes (the CLI draws its progress bar from these). */
export interface UploadListener {
  /** once the file is open, with its size, before any byte is sent */
  start?: (totalBytes: number) => void
  /** each time a chunk is handed to the request */
  sent?: (bytes: number) => void
}

/** A file a body cannot be read from: missing, not a file, not readable. Nothing was sent. */
export class UploadFileError extends Error {
  constructor (message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'UploadFileError'
  }
}

/** A file as a request body of known length, and the handle to close once the request has ended. */
export interface FileBody {
  stream: ReadableStream<Uint8Array>
  length: number
  close: () => Promise<void>
}

const CHUNK_BYTES = 256 * 1024

/**
 * Opens `file` as a pull stream: the next chunk is read only when fetch asks for it, so memory stays at a chunk or
 * two however large the file, and the bytes reported as sent are the bytes handed to the socket.
 */
export async function openFileBody (file: string, listener: UploadListener = {}): Promise<FileBody> {
  const cannotRead = (error: NodeJS.ErrnoException): never => {
    throw new UploadFileError(`cannot read ${file}: ${error.code ?? error.message}`, { cause: error })
  }
  const info = await stat(file).catch(cannotRead)
  if (!info.isFile()) throw new UploadFileError(`${file} is not a file`)
  const handle = await open(file, 'r').catch(cannotRead)
  listener.start?.(info.size)
  const stream = new ReadableStream<Uint8Array>({
    async pull (controller) {
      const chunk = new Uint8Array(CHUNK_BYTES)
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null)
      if (bytesRead === 0) {
        controller.close()
        return
      }
      listener.sent?.(bytesRead)
      controller.enqueue(bytesRead === chunk.length ? chunk : chunk.subarray(0, bytesRead))
    },
  }, { highWaterMark: 0 })
  return { stream, length: info.size, close: () => handle.close() }
}
