/**
 * Plain-text tables and field lists for the CLI's human output. Widths count UTF-16 code units, which is right for
 * everything the API returns (ids, numbers, dates, ASCII names); scripts should use `--json` anyway.
 */

export interface Column<Row> {
  header: string
  value: (row: Row) => unknown
  /** numbers read better right-aligned */
  align?: 'left' | 'right'
}

const GAP = '  '

/** Renders a cell: null and undefined as `-`, objects as compact JSON, everything else as its string. */
export function cellText (value: unknown): string {
  if (value === null || value === undefined || value === '') return '-'
  if (typeof value === 'object') return JSON.stringify(value)
  return String(value)
}

/** A header row and one row per item, columns aligned, no trailing spaces, ending with a newline. */
export function formatTable<Row> (columns: ReadonlyArray<Column<Row>>, rows: readonly Row[]): string {
  const cells = rows.map((row) => columns.map((column) => oneLine(cellText(column.value(row)))))
  const widths = columns.map((column, i) => Math.max(column.header.length, ...cells.map((line) => line[i]!.length)))
  const render = (line: string[]): string => line
    .map((text, i) => columns[i]!.align === 'right' ? text.padStart(widths[i]!) : text.padEnd(widths[i]!))
    .join(GAP)
    .trimEnd()
  return [columns.map((column) => column.header), ...cells].map(render).join('\n') + '\n'
}

/** `name: value` lines with the values aligned; nested objects are flattened to `parent.child`. */
export function formatFields (fields: Record<string, unknown>): string {
  const pairs = flatten(fields, '')
  const width = Math.max(0, ...pairs.map(([name]) => name.length + 1))
  return pairs.map(([name, value]) => `${(name + ':').padEnd(width)} ${oneLine(cellText(value))}`.trimEnd()).join('\n') +
    (pairs.length > 0 ? '\n' : '')
}

function flatten (value: Record<string, unknown>, prefix: string): Array<[string, unknown]> {
  const pairs: Array<[string, unknown]> = []
  for (const [name, inner] of Object.entries(value)) {
    if (inner !== null && typeof inner === 'object' && !Array.isArray(inner) && Object.keys(inner).length > 0) {
      pairs.push(...flatten(inner as Record<string, unknown>, `${prefix}${name}.`))
    } else {
      pairs.push([prefix + name, inner])
    }
  }
  return pairs
}

// A newline inside a cell (release notes, error details) would break the alignment of every row after it.
function oneLine (text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f]+/g, ' ')
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB']

/** 1536 -> `1.5 KiB`; bytes below 1 KiB stay exact. */
export function formatBytes (bytes: number): string {
  let value = bytes
  let unit = 0
  while (Math.abs(value) >= 1024 && unit < UNITS.length - 1) {
    value /= 1024
    unit++
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${UNITS[unit]}`
}
