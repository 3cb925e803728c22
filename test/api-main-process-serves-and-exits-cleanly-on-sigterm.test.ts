import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import t from 'tap'
import { S3_ENV } from './helpers/s3.js'

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  t.test(`the production entry starts from the environment, serves, and exits 0 on ${signal}`, async (t) => {
    const dataDir = await mkdtemp(join(tmpdir(), 'modelpin-main-test-'))
    t.teardown(() => rm(dataDir, { recursive: true, force: true }))
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/api/main.ts'], {
      env: { ...process.env, ...S3_ENV, MODELPIN_DATA_DIR: dataDir, MODELPIN_API_PORT: '0', LOG_LEVEL: 'info', LOG_FORMAT: 'json' },
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
    const exited = once(child, 'exit')

    let url: string | undefined
    for await (const line of createInterface({ input: child.stdout })) {
      const entry = JSON.parse(line) as { msg?: string, url?: string }
      if (entry.msg === 'modelpin admin API listening') {
        url = entry.url
        break
      }
    }
    // keep draining its log, or a full pipe would block the child's next write
    child.stdout.resume()
    t.match(url, /^http:\/\/127\.0\.0\.1:\d+$/)
    const token = (await readFile(join(dataDir, 'admin-token'), 'utf8')).trim()
    const ready = await fetch(`${url}/readyz`)
    t.equal(ready.status, 200)
    const models = await fetch(`${url}/v1/models`, { headers: { authorization: `Bearer ${token}` } })
    t.same(await models.json(), { models: [] })

    child.kill(signal)
    const [code] = await exited
    t.equal(code, 0, `exit code after ${signal}`)
  })
}
