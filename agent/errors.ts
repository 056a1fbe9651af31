/**
 * Coded errors. Every error the agent raises on purpose carries a stable code (never reused), a message that says
 * what to do, and whether retrying the same operation can help. The runners read `retriable` to choose between
 * backing off and dead-lettering.
 */
export const ErrorCodes = {
  CONFIG_INVALID: 'FTA_CONFIG_INVALID',
  CONFIG_NOT_FOUND: 'FTA_CONFIG_NOT_FOUND',
  CONFIG_PARSE: 'FTA_CONFIG_PARSE',
  USAGE: 'FTA_USAGE',
  PLUGIN_LOAD: 'FTA_PLUGIN_LOAD',
  PLUGIN_INVALID: 'FTA_PLUGIN_INVALID',
  CHANNEL_FULL: 'FTA_CHANNEL_FULL',
  TRANSACTION_CAPACITY: 'FTA_TRANSACTION_CAPACITY',
  TRANSACTION_STATE: 'FTA_TRANSACTION_STATE',
  CHANNEL_CLOSED: 'FTA_CHANNEL_CLOSED',
  SINK_WRITE: 'FTA_SINK_WRITE',
  SOURCE_READ: 'FTA_SOURCE_READ',
  STOPPING: 'FTA_STOPPING',
  DIRECTORY_LOCKED: 'FTA_DIRECTORY_LOCKED',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes] | `${string}_${string}`;

export interface AgentErrorOptions {
  retriable?: boolean;
  cause?: unknown;
  /** Component name, when the error belongs to one. */
  component?: string;
}

export class AgentError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;
  readonly component: string | undefined;

  constructor(code: ErrorCode, message: string, options: AgentErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AgentError';
    this.code = code;
    this.retriable = options.retriable ?? false;
    this.component = options.component;
  }
}

/** A channel had no room within its keepAlive; the caller should back off and retry the same batch. */
export class ChannelFullError extends AgentError {
  constructor(channel: string, needed: number, free: number) {
    super(
      ErrorCodes.CHANNEL_FULL,
      `Channel "${channel}" is full (${needed} events to put, ${free} free). The sinks draining it are slower than ` +
        `the sources feeding it, or stopped: check their errors, or raise the channel's capacity.`,
      { retriable: true, component: channel },
    );
  }
}

/** The agent is stopping; the operation was abandoned and will be redone after a restart. */
export class StoppingError extends AgentError {
  constructor() {
    super(ErrorCodes.STOPPING, 'The agent is stopping; the batch was not committed and will be redelivered.', {
      retriable: true,
    });
  }
}

/** Whether retrying may help: coded errors say so; unknown errors (network, I/O) are assumed transient. */
export function isRetriable(error: unknown): boolean {
  if (error instanceof AgentError) return error.retriable;
  if (error && typeof error === 'object' && 'retriable' in error) return Boolean((error as { retriable: unknown }).retriable);
  return true;
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
