/**
 * Shared transaction checks for channel implementations, so every channel reports misuse the same way.
 */
import { AgentError, ErrorCodes } from '../errors.ts';
import type { TakeTransaction } from '../types.ts';

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
