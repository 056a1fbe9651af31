/**
 * Shared transaction checks for channel implementations, so every channel reports misuse the same way.
 */
import { AgentError, ErrorCodes } from '../errors.ts';
import type { Event } from '../event.ts';
import type { PutTransaction, TakeTransaction } from '../types.ts';

export function checkTransaction(open: boolean, channel: string, count: number, transactionCapacity: number, op: string): void {
  if (!open) {
    throw new AgentError(ErrorCodes.TRANSACTION_STATE, `Transaction on channel "${channel}" is already closed; ${op} needs a new transaction.`, { component: channel });
  }
  if (count > transactionCapacity) {
    throw new AgentError(
      ErrorCodes.TRANSACTION_CAPACITY,
      `A transaction on channel "${channel}" holds ${count} events, more than its transactionCapacity ${transactionCapacity}: lower the batchSize or raise transactionCapacity.`,
      { component: channel },
    );
  }
}

/** The take result when nothing was available. */
export const emptyTake: TakeTransaction = Object.freeze({
  events: Object.freeze([]) as readonly never[],
  commit: async () => {},
  rollback: async () => {},
});

/**
 * A put transaction that buffers events (checking transactionCapacity) and hands them to `commit` once; channels
 * implement only what committing means for them.
 */
export function bufferedPut(channel: string, transactionCapacity: number, commit: (events: Event[]) => Promise<void>): PutTransaction {
  let pending: Event[] = [];
  let open = true;
  return {
    put(events) {
      checkTransaction(open, channel, pending.length + events.length, transactionCapacity, 'put');
      for (const e of events) pending.push(e);
    },
    async commit() {
      checkTransaction(open, channel, 0, transactionCapacity, 'commit');
      open = false;
      const events = pending;
      pending = [];
      if (events.length) await commit(events);
    },
    rollback() {
      open = false;
      pending = [];
    },
  };
}
