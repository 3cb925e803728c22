import { readdir } from 'node:fs/promises'
import { extname } from 'node:path'
import t from 'tap'
import { REGISTRY_MIGRATIONS } from '../src/registry/db.js'

const FOLDER = new URL('../migrations/', import.meta.url)

t.test('every file of migrations/ is listed under its file name, and the list names no other', async (t) => {
  const files = (await readdir(FOLDER)).filter((file) => /\.(ts|js|mts|mjs)$/.test(file) && !/\.d\.m?ts$/.test(file)).sort()
  t.ok(files.length > 0, 'the folder holds migrations')
  t.same(Object.keys(REGISTRY_MIGRATIONS), files.map((file) => file.slice(0, -extname(file).length)),
    'one entry per file, named as Kysely recorded them, in the order they apply')
  for (const file of files) {
    const name = file.slice(0, -extname(file).length)
    const module = await import(new URL(file, FOLDER).href) as { up?: unknown }
    t.type(module.up, 'function', `${file} exports up()`)
    t.equal(REGISTRY_MIGRATIONS[name]?.up, module.up, `${name} is ${file}'s up(), not another file's`)
  }
})
