export type { StreamEvents } from './events';
export { Streams, createStreams } from './streams';
export {
  EventStream,
  type PublishOptions,
  type PublishResult,
  type DeadLetter,
  type GroupInfo,
  type EventStreamKeys,
} from './event-stream';
export {
  StreamConsumer,
  type StreamMessage,
  type StreamHandler,
  type EffectCommand,
  type EffectResult,
} from './stream-consumer';
export type { StreamOptions, ConsumerOptions } from './options';
