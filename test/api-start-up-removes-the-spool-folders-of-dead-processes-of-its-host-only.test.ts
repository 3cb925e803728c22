import { spawnSync } from 'node:child_process'
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { prepareSpoolFolder } from '../src/api/upload-spool.js'
import { build } from './helpers/app.js'

/** The pid of a process that ran and exited: a dead process of this host. */
function deadPid (): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' })
  return Number(child.stdout)
}

t.test('the API spools in modelpin-<host>-<pid>/ and at start-up removes the folders of dead processes of its host', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'modelpin-spool-root-'))
  t.teardown(() => rm(root, { recursive: true, force: true }))
  const host = hostname()
  const dead = `modelpin-${host}-${deadPid()}`
  const living = `modelpin-${host}-${process.ppid}`
  const elsewhere = `modelpin-another-host-${deadPid()}`
  for (const folder of [dead, living, elsewhere]) {
    await mkdir(join(root, folder))
    await writeFile(join(root, folder, 'modelpin-upload-left-behind'), 'half an upload')
  }
  await writeFile(join(root, 'unrelated-file'), 'not ours')

  const app = await build(t, { config: { uploadTmpDir: root } })
  const folders = (await readdir(root)).sort()
  t.same(folders, [elsewhere, `modelpin-${host}-${process.pid}`, living, 'unrelated-file'].sort(),
    'the dead process\'s folder is gone; a running process\'s, another host\'s and other files stay')

  t.equal((await app.createModel('spooled')).status, 201)
  t.equal((await app.upload('spooled', 'labels', 'cat\ndog\n')).status, 201)
  t.same(await readdir(join(root, `modelpin-${host}-${process.pid}`)), [], 'an upload leaves no file in its folder')
})

t.test('the sweep asks whether each pid of this host runs, and only those', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'modelpin-spool-sweep-'))
  t.teardown(() => rm(root, { recursive: true, force: true }))
  for (const folder of ['modelpin-h-1-10', 'modelpin-h-1-11', 'modelpin-h-2-12', 'modelpin-h-1-x']) await mkdir(join(root, folder))
  const asked: number[] = []
  const folder = await prepareSpoolFolder(root, { host: 'h-1', pid: 99, isRunning: (pid) => { asked.push(pid); return pid === 11 } })
  t.equal(folder, join(root, 'modelpin-h-1-99'))
  t.same(asked.sort(), [10, 11])
  t.same((await readdir(root)).sort(), ['modelpin-h-1-11', 'modelpin-h-1-99', 'modelpin-h-1-x', 'modelpin-h-2-12'])
})
