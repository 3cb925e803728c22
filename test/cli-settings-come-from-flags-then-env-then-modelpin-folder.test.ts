import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import t from 'tap'
import { DEFAULT_API_URL, resolveSettings } from '../src/cli/settings.js'
import { emptyDirectory } from './helpers/cli.js'

async function stackFolder (t: Parameters<typeof emptyDirectory>[0], files: Record<string, string>): Promise<string> {
  const root = await emptyDirectory(t)
  await mkdir(path.join(root, '.modelpin'))
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(root, '.modelpin', name), text)
  return root
}

t.test('with nothing set, the API is the local default and there is no token', async (t) => {
  const settings = await resolveSettings({}, {}, await emptyDirectory(t))
  t.same(settings, { apiUrl: DEFAULT_API_URL, apiUrlSource: 'the default', token: undefined, tokenSource: undefined })
})

t.test('.modelpin is found from a subfolder: the api endpoint of stack.json and the admin token', async (t) => {
  const root = await stackFolder(t, {
    'stack.json': JSON.stringify({ endpoints: { api: 'http://127.0.0.1:4100/', s3: 'http://127.0.0.1:7480' } }),
    'admin-token': 'secret-admin\n',
  })
  const deep = path.join(root, 'a', 'b')
  await mkdir(deep, { recursive: true })
  const settings = await resolveSettings({}, {}, deep)
  t.equal(settings.apiUrl, 'http://127.0.0.1:4100')
  t.equal(settings.apiUrlSource, path.join(root, '.modelpin', 'stack.json'))
  t.equal(settings.token, 'secret-admin', 'the newline is not part of the token')
})

t.test('stack.json is read defensively: a top-level api, an object with a url, or nothing usable', async (t) => {
  const topLevel = await stackFolder(t, { 'stack.json': JSON.stringify({ api: 'http://h:1' }) })
  t.equal((await resolveSettings({}, {}, topLevel)).apiUrl, 'http://h:1')
  const withUrl = await stackFolder(t, { 'stack.json': JSON.stringify({ endpoints: { api: { url: 'http://h:2' } } }) })
  t.equal((await resolveSettings({}, {}, withUrl)).apiUrl, 'http://h:2')
  const unusable = await stackFolder(t, { 'stack.json': '{"endpoints": ' })
  t.equal((await resolveSettings({}, {}, unusable)).apiUrl, DEFAULT_API_URL)
  const otherShape = await stackFolder(t, { 'stack.json': JSON.stringify({ endpoints: ['x'] }) })
  t.equal((await resolveSettings({}, {}, otherShape)).apiUrl, DEFAULT_API_URL)
})

t.test('the environment beats .modelpin, and flags beat the environment', async (t) => {
  const root = await stackFolder(t, {
    'stack.json': JSON.stringify({ endpoints: { api: 'http://stack:1' } }),
    'admin-token': 'from-file',
  })
  const env = { MODELPIN_API_URL: 'https://env.example/modelpin/', MODELPIN_TOKEN: 'from-env' }
  const fromEnv = await resolveSettings({}, env, root)
  t.same(fromEnv, {
    apiUrl: 'https://env.example/modelpin', apiUrlSource: 'MODELPIN_API_URL', token: 'from-env', tokenSource: 'MODELPIN_TOKEN',
  })
  const fromFlags = await resolveSettings({ api: 'http://flag:2', token: 'from-flag' }, env, root)
  t.same(fromFlags, { apiUrl: 'http://flag:2', apiUrlSource: '--api', token: 'from-flag', tokenSource: '--token' })
  const emptyEnv = await resolveSettings({}, { MODELPIN_API_URL: '', MODELPIN_TOKEN: ' ' }, root)
  t.equal(emptyEnv.apiUrl, 'http://stack:1', 'an empty variable counts as unset')
  t.equal(emptyEnv.token, 'from-file')
})

t.test('a URL that is not http(s), or carries a query, is refused naming where it came from', async (t) => {
  const cwd = await emptyDirectory(t)
  await t.rejects(resolveSettings({ api: 'localhost:3000' }, {}, cwd), { name: 'UsageError', message: /--api/ })
  await t.rejects(resolveSettings({}, { MODELPIN_API_URL: 'http://h/?x=1' }, cwd),
    { name: 'UsageError', message: /MODELPIN_API_URL must not carry a query/ })
  await t.rejects(resolveSettings({ token: '' }, {}, cwd), { name: 'UsageError', message: '--token is empty' })
})

t.test('MODELPIN_DATA_DIR names the folder of stack.json and admin-token, as it does for the stack', async (t) => {
  const root = await stackFolder(t, { 'stack.json': JSON.stringify({ endpoints: { api: 'http://in-dot-modelpin:1' } }) })
  const elsewhere = await emptyDirectory(t)
  await writeFile(path.join(elsewhere, 'stack.json'), JSON.stringify({ endpoints: { api: 'http://data-dir:2' } }))
  await writeFile(path.join(elsewhere, 'admin-token'), 'data-dir-token\n')
  const settings = await resolveSettings({}, { MODELPIN_DATA_DIR: path.relative(root, elsewhere) }, root)
  t.equal(settings.apiUrl, 'http://data-dir:2', 'a relative MODELPIN_DATA_DIR is taken from the working directory')
  t.equal(settings.token, 'data-dir-token')
})
