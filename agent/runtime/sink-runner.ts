/**
 * Drains one channel into one sink, or into a sink group whose members share the channel: take a batch, offer it
 * to the members in the group policy's order until one writes it, and commit only after the destination
 * acknowledged it. A retriable failure hands the batch to the next member (a lone sink has none); when no member
 * took it, the batch is rolled back (redelivered first, in order) and the runner backs off exponentially. A
 * permanent failure sends the batch, and any events a sink reports as rejected, to dead letters so one poison
 * event never blocks the channel.
 */
import type { Logger } from 'pino';
import { errorMessage, isRetriable } from '../errors.ts';
import type { ComponentStats } from '../metrics/stats.ts';
import type { Sink, TakeTransaction } from '../types.ts';
import { Backoff, sleep } from './backoff.ts';
import type { DeadLetters, Rejected } from './dead-letters.ts';
import type { InstrumentedChannel } from './instrumented-channel.ts';
import { LoadBalancePolicy, type SinkPolicy } from './sink-group.ts';
import { SinkMember } from './sink-group-member.ts';
import type { SinkGroupStats } from './sink-group-stats.ts';

interface CommonOptions {
  channel: InstrumentedChannel;
  /** Events per take (a group takes the smallest batchSize of its members). */
  batchSize: number;
  deadLetters: DeadLetters;
  /** How long one take waits for events before the sinks get an idle() call. */
  pollMs?: number;
}

/** A lone sink. */
export interface SinkRunnerOptions extends CommonOptions {
  sink: Sink;
  stats: ComponentStats;
  log: Logger;
}

/** A sink group: its members in configured order, the policy that orders them per batch, and its own stats. */
export interface SinkGroupRunnerOptions extends CommonOptions {
  members: SinkMember[];
  policy: SinkPolicy;
  group: SinkGroupStats;
}

export class SinkRunner {
  private readonly controller = new AbortController();
  private loop: Promise<void> | undefined;
  private draining = false;
  private readonly backoff = new Backoff(100, 10_000);
  private readonly members: SinkMember[];
  private readonly policy: SinkPolicy;
  private readonly group: SinkGroupStats | undefined;
  private readonly ready = (i: number) => this.members[i]!.ready;

  constructor(private readonly o: SinkRunnerOptions | SinkGroupRunnerOptions) {
    if ('members' in o) {
      ({ members: this.members, policy: this.policy, group: this.group } = o);
      o.group.view = () => ({ active: this.policy.active(Date.now(), this.ready), resting: this.policy.resting(Date.now()) });
    } else {
      this.members = [new SinkMember(o.stats.name, o.sink, o.stats, o.log)];
      this.policy = new LoadBalancePolicy(1);
    }
  }

  async start(): Promise<void> {
    for (const m of this.members) void m.start(this.controller.signal);
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    const { channel, batchSize } = this.o;
    const signal = this.controller.signal;
    const pollMs = this.o.pollMs ?? 1000;
    while (!signal.aborted) {
      if (this.draining && channel.size() === 0) return;
      if (!this.policy.available(Date.now(), this.ready)) {
        await this.rest(pollMs, signal);
        continue;
      }
      const tx = await channel.take(batchSize, this.draining ? 50 : pollMs, signal);
      if (tx.events.length === 0) {
        const first = this.policy.active(Date.now(), this.ready)[0];
        if (first !== undefined) this.members[first]!.stats.add('batches_empty_total');
        await Promise.all(this.members.filter((m) => m.ready).map((m) => m.idle()));
        continue;
      }
      const order = this.policy.order(Date.now(), this.ready);
      if (order.length === 0) {
        // Every member went to rest while the take waited: hand the batch back untouched.
        await tx.rollback();
        continue;
      }
      if (await this.deliver(tx, order, signal)) this.backoff.reset();
      else if (!(await this.backoff.wait(signal))) return;
    }
  }

  /** Waits until a member's rest is over, a member starts, or a poll interval passes. */
  private async rest(pollMs: number, signal: AbortSignal): Promise<void> {
    const now = Date.now();
    const at = this.policy.nextRetryAt(now);
    const done = new AbortController();
    const starting = this.members.filter((m) => !m.ready).map((m) => m.started);
    await Promise.race([sleep(at === undefined ? pollMs : Math.min(pollMs, at - now), AbortSignal.any([signal, done.signal])), ...starting]);
    done.abort();
  }

  /** Offers the batch to the members in `order`; true when it was committed, false when it was rolled back. */
  private async deliver(tx: TakeTransaction, order: readonly number[], signal: AbortSignal): Promise<boolean> {
    const events = tx.events;
    for (let k = 0; k < order.length; k++) {
      const i = order[k]!;
      const m = this.members[i]!;
      if (k > 0 && this.group) this.group.failovers++;
      m.stats.add('events_drain_attempts_total', events.length);
      const started = performance.now();
      let rejected: Rejected[];
      try {
        const result = await m.sink.write(events);
        rejected = result && result.rejected ? result.rejected : [];
      } catch (error) {
        if (isRetriable(error)) {
          this.policy.failed(i, Date.now());
          const next = order[k + 1];
          m.writeFailed(error, events.length, this.backoff.consecutive + 1, next === undefined ? undefined : this.members[next]);
          continue;
        }
        // The destination will never take this batch: dead-letter it rather than block the channel forever.
        this.policy.succeeded(i);
        await this.o.deadLetters.send(m.stats, events.map((event) => ({ event, reason: 'sink-rejected', detail: errorMessage(error) })), signal);
        m.stats.error('sending', errorMessage(error));
        return this.commit(tx, m, () => undefined);
      }
      this.policy.succeeded(i);
      if (rejected.length) await this.o.deadLetters.send(m.stats, rejected, signal);
      return this.commit(tx, m, () => this.delivered(m, events.length - rejected.length, events, started));
    }
    await tx.rollback();
    return false;
  }

  private async commit(tx: TakeTransaction, m: SinkMember, after: () => void): Promise<boolean> {
    try {
      await tx.commit();
    } catch (error) {
      // The channel failed, not the sink: redeliver (a duplicate downstream) rather than lose the batch.
      await tx.rollback();
      m.writeFailed(error, tx.events.length, this.backoff.consecutive + 1, undefined);
      return false;
    }
    after();
    return true;
  }

  private delivered(m: SinkMember, n: number, events: readonly { ingestTime: number }[], started: number): void {
    const { stats } = m;
    const now = Date.now();
    stats.add('events_drained_total', n);
    stats.add(events.length >= this.o.batchSize ? 'batches_complete_total' : 'batches_underflow_total');
    stats.batchDuration.observe((performance.now() - started) / 1000);
    const age = stats.eventAge;
    for (let i = 0; i < events.length; i++) age.observe((now - events[i]!.ingestTime) / 1000);
  }

  /**
   * Drains what the channel holds until it is empty or `deadline` passes, then stops the loop and the sinks.
   * Events still in the channel stay there (a durable channel keeps them for the next start).
   */
  async stop(deadline: number): Promise<void> {
    this.draining = true;
    const left = deadline - Date.now();
    const timer = setTimeout(() => this.controller.abort(), Math.max(0, left));
    // A write hung on a dead destination must not hold the stop forever: give it a short grace past the deadline.
    await Promise.race([this.loop, new Promise((r) => setTimeout(r, Math.max(0, left) + 5000).unref())]);
    clearTimeout(timer);
    this.controller.abort();
    await Promise.all(this.members.map((m) => m.stop()));
  }
}
