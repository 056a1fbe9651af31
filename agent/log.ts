/**
 * Logging: pino JSON lines (ELK-ready). One child logger per component carries its labels. Normal operation logs
 * nothing per event; repeated errors go through `rateLimited` so a poison stream cannot flood the log.
 */
import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

const SECRET_KEYS = ['password', 'token', 'apiKey', 'secret', 'authorization', 'sasl.password', '*.password', '*.token', '*.apiKey', '*.secret'];

/**
 * Secret values this process knows (credentials substituted from ${ENV}), replaced by a label wherever they would
 * be printed: in every log line, whatever field or message carries them (an error text, a URL, a server's reply),
 * and in the monitoring endpoint's bodies. Key-based redaction alone misses a secret quoted inside a message.
 */
export class SecretValues {
  /** Secrets shorter than this are not scrubbed from free text: replacing "1" or "true" everywhere helps no one. */
  static readonly MIN_LENGTH = 4;
  /** Bounded: a config reload adds the same values again, never an unbounded stream of new ones. */
  static readonly MAX = 1000;
  private readonly forms = new Map<string, string>();

  /** Remembers a secret and the label printed instead of it (e.g. "${INFLUX_TOKEN}"). */
  add(value: string, label = '[redacted]'): void {
    if (value.length < SecretValues.MIN_LENGTH || this.forms.size >= SecretValues.MAX) return;
    this.forms.set(value, label);
    // As it appears inside a JSON string (a log line), when escaping changes it.
    const escaped = JSON.stringify(value).slice(1, -1);
    if (escaped !== value) this.forms.set(escaped, label);
  }

  get size(): number {
    return this.forms.size;
  }

  scrub(text: string): string {
    // Credentials in HTTP authorization form (a server's reply that quotes the request, a client's error) are
    // caught by their shape too: Basic carries user:password in base64, and *File secrets are not in the set.
    if (AUTH_HEADER.test(text)) text = text.replace(AUTH_HEADER_ALL, '$1 [redacted]');
    if (this.forms.size === 0) return text;
    for (const [form, label] of this.forms) if (text.includes(form)) text = text.split(form).join(label);
    return text;
  }
}

// A scheme, then 8+ credential characters with a digit, an uppercase letter (after the first) or base64 padding
// in them, so prose such as "Basic authentication failed" is left alone.
const AUTH = String.raw`\b(Basic|Bearer|ApiKey|Token|Digest|Negotiate)\s+[\w+/=.~-](?=[\w+/=.~-]*[0-9A-Z+/=])[\w+/=.~-]{7,}`;
const AUTH_HEADER = new RegExp(AUTH);
const AUTH_HEADER_ALL = new RegExp(AUTH, 'g');

/** The process-wide set: filled while configurations load, read by every logger and the metrics endpoint. */
export const secretValues = new SecretValues();

export function createLogger(options: { level?: string; destination?: NodeJS.WritableStream | number } = {}): Logger {
  const opts: LoggerOptions = {
    level: options.level ?? process.env.FTA_LOG_LEVEL ?? 'info',
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: SECRET_KEYS, censor: '[redacted]' },
    formatters: { level: (label) => ({ level: label }) },
    hooks: { streamWrite: (line) => secretValues.scrub(line) },
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
