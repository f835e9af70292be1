export { SessionEngine, createSessionEngine, type SaveOutcome, type TouchOutcome, type WriteOptions, type SessionInfo } from './session-engine';
export {
  resolveSessionOptions,
  defaultSessionUserId,
  SESSION_OPTION_NAMES,
  type SessionOptions,
  type ResolvedSessionOptions,
  type SessionRecord,
  type SessionUserId,
  type SessionEncryptionOptions,
} from './options';
export { jsonSerializer, stripPrototypeKeys, type SessionSerializer } from './serializer';
export { SessionStoreBase } from './session-store-base';
export { SessionCipher, type SessionKey } from './cipher';
export type { SessionEvents } from './events';
