/** Reading the admin API's /metrics from a benchmark. */

/** The sum of every sample of `name` (all label sets) in the API's /metrics, 0 when it has none. */
export async function metricSum (apiUrl: string, name: string): Promise<number> {
  const response = await fetch(`${apiUrl}/metrics`)
  if (response.status !== 200) throw new Error(`GET /metrics answered ${response.status}`)
  let sum = 0
  for (const line of (await response.text()).split('\n')) {
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) sum += Number(line.slice(line.lastIndexOf(' ') + 1))
  }
  return sum
}
