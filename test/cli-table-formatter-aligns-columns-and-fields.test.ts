import t from 'tap'
import { formatProgress, UploadProgress } from '../src/cli/progress.js'
import { cellText, formatBytes, formatFields, formatTable } from '../src/cli/table.js'

t.test('a table pads every column to its widest cell, right-aligns numbers and trims line ends', async (t) => {
  const rows = [
    { number: 1, notes: 'first', by: 'admin' },
    { number: 12, notes: null, by: 'ci-token' },
  ]
  const text = formatTable<typeof rows[number]>([
    { header: 'RELEASE', value: (r) => r.number, align: 'right' },
    { header: 'NOTES', value: (r) => r.notes },
    { header: 'BY', value: (r) => r.by },
  ], rows)
  t.equal(text, [
    'RELEASE  NOTES  BY',
    '      1  first  admin',
    '     12  -      ci-token',
    '',
  ].join('\n'))
})

t.test('a table with no rows is its header', async (t) => {
  t.equal(formatTable([{ header: 'NAME', value: () => 'x' }], []), 'NAME\n')
})

t.test('a newline or tab inside a cell cannot break the alignment', async (t) => {
  const text = formatTable([{ header: 'A', value: (r: string) => r }, { header: 'B', value: () => 'b' }], ['x\ny\tz'])
  t.equal(text, 'A      B\nx y z  b\n')
})

t.test('cells show null and empty as -, objects as JSON', async (t) => {
  t.equal(cellText(null), '-')
  t.equal(cellText(undefined), '-')
  t.equal(cellText(''), '-')
  t.equal(cellText(0), '0')
  t.equal(cellText(false), 'false')
  t.equal(cellText([{ bucket: 'b', key: 'k' }]), '[{"bucket":"b","key":"k"}]')
})

t.test('fields align their values and flatten nested objects', async (t) => {
  t.equal(formatFields({
    alias: 'production',
    release: 2,
    live: { functionVersion: '7', weights: null },
    canary: null,
  }), [
    'alias:                production',
    'release:              2',
    'live.functionVersion: 7',
    'live.weights:         -',
    'canary:               -',
    '',
  ].join('\n'))
  t.equal(formatFields({}), '')
})

t.test('sizes are exact below 1 KiB and one decimal above', async (t) => {
  t.equal(formatBytes(0), '0 B')
  t.equal(formatBytes(1023), '1023 B')
  t.equal(formatBytes(1536), '1.5 KiB')
  t.equal(formatBytes(100 * 1024 * 1024), '100.0 MiB')
  t.equal(formatBytes(3 * 1024 ** 4), '3.0 TiB')
})

t.test('the progress line shows the bar, percent, bytes sent of total and rate', async (t) => {
  const half = formatProgress({ sent: 5 * 1024 * 1024, total: 10 * 1024 * 1024, elapsedMs: 2000 })
  t.equal(half, '[============>           ]  50%  5.0 MiB / 10.0 MiB  2.5 MiB/s')
  const done = formatProgress({ sent: 10, total: 10, elapsedMs: 0 })
  t.equal(done, '[========================] 100%  10 B / 10 B  -')
  t.equal(formatProgress({ sent: 0, total: 0, elapsedMs: 5 }), '[========================] 100%  0 B / 0 B  0 B/s')
})

t.test('the progress bar redraws at most once per interval on a terminal and draws nothing elsewhere', async (t) => {
  let clock = 0
  let drawn = ''
  const progress = new UploadProgress({ write: (text) => { drawn += text }, isTTY: true }, 1000, () => clock, 100)
  progress.advance(100) // t=0: first draw
  clock = 50
  progress.advance(100) // within the interval: no draw
  clock = 150
  progress.advance(100) // draws 300 B
  progress.finish()
  const frames = drawn.split('\r').filter((frame) => frame !== '')
  t.equal(frames.length, 3)
  t.match(frames[0], ' 10%  100 B / 1000 B')
  t.match(frames[1], ' 30%  300 B / 1000 B')
  t.ok(drawn.endsWith('\n'), 'the last frame ends its line')

  let written = ''
  const quiet = new UploadProgress({ write: (text) => { written += text }, isTTY: false }, 1000, () => clock, 100)
  quiet.advance(1000)
  quiet.finish()
  t.equal(written, '')
})
