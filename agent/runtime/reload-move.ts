/**
 * Moves the events a replaced channel still holds into its successor, oldest first, one transaction at a time:
 * the put into the new channel commits before the take from the old one does, so a crash in between duplicates
 * a batch and never loses one. It works below the instrumentation, so moved events are not counted as new puts
 * (the old channel counted them once) and are counted as takes only when a sink takes them from the new channel.
 */
import { isRetriable } from '../errors.ts';
import type { Channel } from '../types.ts';
import { Backoff } from './backoff.ts';

export interface MoveResult {
  moved: number;
  /** Events left behind because `signal` aborted (the agent is stopping) or the new channel refused them for good. */
  left: number;
  error?: unknown;
}

/**
 * A new channel smaller than the backlog fills up: the put waits (the channel's keepAlive, then backoff) while the
 * sinks, already running on the new channel, make room. Only an abort (agent stopping) or a permanent refusal
 * ends the move early.
 */
export async function moveEvents(from: Channel, to: Channel, signal: AbortSignal): Promise<MoveResult> {
  const step = Math.max(1, Math.min(from.transactionCapacity, to.transactionCapacity, to.capacity));
  const backoff = new Backoff(50, 2000);
  let moved = 0;
  while (!signal.aborted) {
    const take = await from.take(step, 0);
    if (take.events.length === 0) break;
    for (;;) {
      const put = to.beginPut();
      try {
        put.put(take.events);
        await put.commit();
        backoff.reset();
        break;
      } catch (error) {
        put.rollback();
        if (!isRetriable(error) || !(await backoff.wait(signal))) {
          await take.rollback();
          return { moved, left: from.size(), error: isRetriable(error) ? undefined : error };
        }
      }
    }
    await take.commit();
    moved += take.events.length;
  }
  return { moved, left: from.size() };
}
