/**
 * A path as the tests write it (`/v1/models/m/aliases/a/history?limit=3`) as the admin API client's path segments
 * below /v1 and query; the client encodes each segment again.
 */
export function v1Target (path: string): { path: string[], query: Record<string, string> } {
  const url = new URL(path, 'http://admin-api.invalid')
  const [root, ...segments] = url.pathname.split('/').filter((segment) => segment !== '').map(decodeURIComponent)
  if (root !== 'v1') throw new Error(`an admin API path starts with /v1/, not ${JSON.stringify(path)}`)
  return { path: segments, query: Object.fromEntries(url.searchParams) }
}
