import { formatBytes } from './table.js'

export interface ProgressState {
  sent: number
  total: number
  elapsedMs: number
}

const BAR_WIDTH = 24

/** One line of the upload progress bar: `[=====>     ]  42%  10.5 MiB / 25.0 MiB  5.2 MiB/s`. */
export function formatProgress ({ sent, total, elapsedMs }: ProgressState): string {
  const fraction = total > 0 ? Math.min(1, sent / total) : 1
  const filled = Math.floor(fraction * BAR_WIDTH)
  const bar = '='.repeat(filled) + (filled < BAR_WIDTH ? '>' + ' '.repeat(BAR_WIDTH - filled - 1) : '')
  const percent = `${Math.floor(fraction * 100)}%`.padStart(4)
  const rate = elapsedMs > 0 ? `${formatBytes(Math.round(sent / (elapsedMs / 1000)))}/s` : '-'
  return `[${bar}] ${percent}  ${formatBytes(sent)} / ${formatBytes(total)}  ${rate}`
}

export interface ProgressTerminal {
  write: (text: string) => unknown
  isTTY?: boolean
}

/**
 * Redraws the progress line in place on a terminal, at most every `intervalMs` (a fast upload would otherwise spend
 * its time writing to the terminal). Off a terminal it draws nothing: a log file gains nothing from a bar.
 */
export class UploadProgress {
  private readonly started: number
  private lastDrawn = -Infinity
  private sent = 0
  private readonly enabled: boolean

  constructor (
    private readonly terminal: ProgressTerminal,
    private readonly total: number,
    private readonly now: () => number = () => performance.now(),
    private readonly intervalMs = 100
  ) {
    this.enabled = terminal.isTTY === true
    this.started = now()
  }

  advance (bytes: number): void {
    this.sent += bytes
    const now = this.now()
    if (now - this.lastDrawn >= this.intervalMs) this.draw(now)
  }

  /** Draws the final state and ends the line, so what follows starts on a line of its own. */
  finish (): void {
    if (!this.enabled) return
    this.draw(this.now())
    this.terminal.write('\n')
  }

  private draw (now: number): void {
    this.lastDrawn = now
    if (!this.enabled) return
    // \r returns to the start of the line; \x1b[K clears what a longer previous line left behind.
    this.terminal.write(`\r${formatProgress({ sent: this.sent, total: this.total, elapsedMs: now - this.started })}\x1b[K`)
  }
}
