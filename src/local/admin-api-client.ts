import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'

/** The few admin API calls the stack makes (and its tests reuse), with errors that say which call failed. */
export class ApiClient {
  constructor (readonly url: string, readonly token: string) {}

  async request (method: string, path: string, body?: unknown, expect: number[] = [200, 201]): Promise<{ status: number, body: unknown }> {
    const response = await fetch(this.url + path, {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    const text = await response.text()
    if (!expect.includes(response.status)) throw new Error(`${method} ${path} answered ${response.status}: ${text}`)
    return { status: response.status, body: text === '' ? null : JSON.parse(text) }
  }

  async upload (path: string, file: string): Promise<{ versionId: string }> {
    const { size } = await stat(file)
    const response = await fetch(this.url + path, {
      method: 'PUT',
      headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/octet-stream', 'content-length': String(size) },
      body: createReadStream(file) as unknown as ReadableStream,
      duplex: 'half',
    } as RequestInit)
    const text = await response.text()
    if (response.status !== 201) throw new Error(`PUT ${path} answered ${response.status}: ${text}`)
    return JSON.parse(text) as { versionId: string }
  }
}
