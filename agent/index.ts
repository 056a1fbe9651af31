/**
 * The public API for plugin authors and embedders. Plugins import only from here (`fintrans-agent`).
 */
export { Event, type Headers } from './event.ts';
export { AgentError, ChannelFullError, StoppingError, ErrorCodes, isRetriable, errorMessage } from './errors.ts';
export { definePlugin } from './types.ts';
export type {
  Channel, ComponentContext, ComponentKind, ComponentMetrics, JsonSchema, KindMap, PluginDefinition, ProcessContext,
  Processor, PutTransaction, Sink, Source, SourceRunContext, TakeTransaction, WriteResult,
} from './types.ts';
export { durationSchema, toMillis } from './config/duration.ts';
// Building blocks for channel implementations.
export { EventDeque } from './runtime/deque.ts';
export { Waiters } from './runtime/waiters.ts';
export { bufferedPut, checkTransaction, emptyTake } from './runtime/transactions.ts';
