/**
 * Logging: pino JSON lines (ELK-ready). One child logger per component carries its labels. Normal operation logs
 * nothing per event; repeated errors go through `rateLimited` so a poison stream cannot flood the log.
 */
import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

const SECRET_KEYS = ['password', 'token', 'apiKey', 'secret', 'authorization', 'sasl.password', '*.password', '*.token', '*.apiKey', '*.secret'];

export function createLogger(options: { level?: string; destination?: NodeJS.WritableStream | number } = {}): Logger {
  const opts: LoggerOptions = {
    level: options.level ?? process.env.FTA_LOG_LEVEL ?? 'info',
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: SECRET_KEYS, censor: '[redacted]' },
    formatters: { level: (label) => ({ level: label }) },
  };
  const dest = options.destination ?? 1;
  return pino(opts, typeof dest === 'number' ? pino.destination({ dest, sync: false }) : dest);
}

/** A logger that writes nothing, for tests and tools. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** Logs at most one line per `intervalMs` per key, reporting how many were suppressed in between. */
export class RateLimiter {
  private last = new Map<string, { at: number; suppressed: number }>();
  constructor(private readonly intervalMs = 10_000) {}

  /** Returns the number suppressed since the last line when the caller should log now, or -1 to stay silent. */
  allow(key: string, now = Date.now()): number {
    const entry = this.last.get(key);
    if (!entry || now - entry.at >= this.intervalMs) {
      const suppressed = entry?.suppressed ?? 0;
      this.last.set(key, { at: now, suppressed: 0 });
      return suppressed;
    }
    entry.suppressed++;
    return -1;
  }
}
