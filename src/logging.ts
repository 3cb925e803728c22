import { pino, type Logger, type LoggerOptions } from 'pino'

/**
 * Options for every pino logger in modelpin: JSON lines, pretty-printed only when a person watches a terminal
 * (pino-pretty is a development dependency and is never loaded in Lambda or CI).
 */
export function loggerOptions (name: string, level = process.env.LOG_LEVEL ?? 'info'): LoggerOptions {
  const pretty = process.stdout.isTTY === true && process.env.CI !== 'true' && process.env.LOG_FORMAT !== 'json'
  return {
    name,
    level,
    ...(pretty ? { transport: { target: 'pino-pretty', options: { colorize: true, ignore: 'pid,hostname' } } } : {}),
  }
}

/** A pino logger named for the part of modelpin that logs through it. */
export function createLogger (name: string, level?: string): Logger {
  return pino(loggerOptions(name, level))
}
