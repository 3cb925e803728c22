/**
 * Reading the API's JSON defensively: the CLI must keep working against any modelpin API version, so human output
 * renders what is there and never crashes on a field it does not know or that is missing.
 */

export function asRecord (value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? value as Record<string, unknown> : undefined
}

/** `body[name]` when it is an array of objects; `[]` otherwise. */
export function recordsIn (body: unknown, name: string): Array<Record<string, unknown>> {
  const list = asRecord(body)?.[name]
  return Array.isArray(list) ? list.map((item) => asRecord(item) ?? {}) : []
}
