/**
 * Sink group policies, Flume's sink processors: which members of a group are offered the next batch, in which
 * order, and which rest after a failure. The SinkRunner owns the loop, the transaction, retries and backoff; a
 * policy only orders members. Unlike Flume, any retriable write failure counts against a member, so a sink that
 * keeps reporting retriable errors is failed over like one that throws.
 */
import type { ResolvedSinkGroup } from '../config/validate.ts';
import { Backoff } from './backoff.ts';

type Ready = (i: number) => boolean;

export interface SinkPolicy {
  /** Whether some started member may be offered a batch now (checked before taking one). */
  available(now: number, ready: Ready): boolean;
  /** Member indexes to offer one batch to: the first writes it, the next gets it after a retriable failure. */
  order(now: number, ready: Ready): number[];
  /** Member i acknowledged a batch (or rejected it for good: then the batch was bad, not the member). */
  succeeded(i: number): void;
  /** Member i failed a batch with a retriable error. */
  failed(i: number, now: number): void;
  /** When the earliest member that rests now may be offered a batch again. */
  nextRetryAt(now: number): number | undefined;
  /** Members resting now. */
  resting(now: number): number[];
  /** Members taking batches now: failover's active member, or every live member of a load_balance group. */
  active(now: number, ready: Ready): number[];
}

/** Rests per member: 1 s (at most maxMs) doubling per consecutive failure up to maxMs; a success clears it. */
export class PenaltyBox {
  private readonly until: number[];
  private readonly backoffs: Backoff[];

  constructor(n: number, maxMs: number, private readonly onPenalty: (i: number) => void = () => {}) {
    this.until = new Array<number>(n).fill(0);
    this.backoffs = Array.from({ length: n }, () => new Backoff(Math.min(1000, maxMs), maxMs));
  }

  penalize(i: number, now: number): void {
    this.until[i] = now + this.backoffs[i]!.next();
    this.onPenalty(i);
  }

  clear(i: number): void {
    this.until[i] = 0;
    this.backoffs[i]!.reset();
  }

  /** Failed since its last success, whether or not its rest is over. */
  has(i: number): boolean {
    return this.until[i]! > 0;
  }

  resting(i: number, now: number): boolean {
    return this.until[i]! > now;
  }

  nextAt(now: number): number | undefined {
    const future = this.until.filter((u) => u > now);
    return future.length ? Math.min(...future) : undefined;
  }
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/**
 * Every batch goes to the highest-priority live member. A member that fails rests in the penalty box; once its
 * rest is over it is offered the next batch first (Flume's recovery probe) and rejoins the live members when it
 * writes, taking over again if it ranks highest.
 */
export class FailoverPolicy implements SinkPolicy {
  /** Member indexes, highest priority first; members without a priority after, in list order. */
  readonly rank: number[];

  constructor(members: readonly string[], priority: Readonly<Record<string, number>>, readonly box: PenaltyBox) {
    const prio = (i: number) => priority[members[i]!];
    this.rank = range(members.length).sort((a, b) => {
      const pa = prio(a);
      const pb = prio(b);
      if (pa !== undefined && pb !== undefined) return pb - pa;
      if (pa !== undefined || pb !== undefined) return pa !== undefined ? -1 : 1;
      return a - b;
    });
  }

  available(now: number, ready: Ready): boolean {
    return this.rank.some((i) => ready(i) && !this.box.resting(i, now));
  }

  order(now: number, ready: Ready): number[] {
    const recovering = this.rank.filter((i) => ready(i) && this.box.has(i) && !this.box.resting(i, now));
    return [...recovering, ...this.rank.filter((i) => ready(i) && !this.box.has(i))];
  }

  succeeded(i: number): void {
    this.box.clear(i);
  }

  failed(i: number, now: number): void {
    this.box.penalize(i, now);
  }

  nextRetryAt(now: number): number | undefined {
    return this.box.nextAt(now);
  }

  resting(now: number): number[] {
    return this.rank.filter((i) => this.box.resting(i, now));
  }

  active(_now: number, ready: Ready): number[] {
    const i = this.rank.find((m) => ready(m) && !this.box.has(m));
    return i === undefined ? [] : [i];
  }
}

/**
 * Batches spread over the live members, round robin or in a random order per batch; a batch a member fails goes
 * to the next one in that order. With backoff, a failing member rests (exponentially) instead of being offered
 * the next batch. A lone sink is a group of one without backoff: offered every batch, never rested.
 */
export class LoadBalancePolicy implements SinkPolicy {
  private next = 0;

  constructor(
    private readonly n: number,
    private readonly selector: 'round_robin' | 'random' = 'round_robin',
    private readonly box?: PenaltyBox,
    private readonly random: () => number = Math.random,
  ) {}

  private live(now: number, ready: Ready): number[] {
    return range(this.n).filter((i) => ready(i) && !this.box?.resting(i, now));
  }

  available(now: number, ready: Ready): boolean {
    return this.live(now, ready).length > 0;
  }

  order(now: number, ready: Ready): number[] {
    const live = this.live(now, ready);
    if (this.selector === 'random') {
      for (let i = live.length - 1; i > 0; i--) {
        const j = Math.floor(this.random() * (i + 1));
        [live[i], live[j]] = [live[j]!, live[i]!];
      }
      return live;
    }
    const start = live.length ? this.next % live.length : 0;
    this.next = start + 1;
    return [...live.slice(start), ...live.slice(0, start)];
  }

  succeeded(i: number): void {
    this.box?.clear(i);
  }

  failed(i: number, now: number): void {
    this.box?.penalize(i, now);
  }

  nextRetryAt(now: number): number | undefined {
    return this.box?.nextAt(now);
  }

  resting(now: number): number[] {
    return range(this.n).filter((i) => this.box?.resting(i, now));
  }

  active(now: number, ready: Ready): number[] {
    return this.live(now, ready);
  }
}

/** The policy of a configured group; `onPenalty` is told each time a member is sent to rest. */
export function createSinkPolicy(group: ResolvedSinkGroup, onPenalty?: (i: number) => void): SinkPolicy {
  const n = group.sinks.length;
  if (group.type === 'failover') return new FailoverPolicy(group.sinks, group.priority, new PenaltyBox(n, group.maxPenaltyMs, onPenalty));
  return new LoadBalancePolicy(n, group.selector, group.backoff ? new PenaltyBox(n, group.maxPenaltyMs, onPenalty) : undefined);
}
