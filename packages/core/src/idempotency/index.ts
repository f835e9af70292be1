export type { IdempotencyEvents, IdempotencyEventBase, IdempotencyEventName } from './events';
export { IDEMPOTENCY_PROBLEM_TYPES } from './problems';
export { parseIdempotencyKey, type KeyRules, type ParsedKey } from './key-header';
export {
  canonicalJson,
  canonicalBody,
  fingerprint,
  selectFields,
  type BodyForm,
  type FieldSelection,
  type FingerprintInput,
} from './fingerprint';
export { defaultPrincipal, userIdOf } from './principal';
export {
  resolveIdempotencyOptions,
  defaultStoreStatus,
  DEFAULT_REPLAY_HEADERS,
  type IdempotencyOptions,
  type IdempotencyRequest,
  type ResolvedIdempotencyOptions,
} from './options';
export { IdempotencyClaim, type ClaimPhase } from './claim';
export { CompletionSignals, type Signal } from '../redis/completion-signals';
export { IdempotencyEngine, createIdempotency, prepareIdempotency, type IdempotencyDecision } from './idempotency';
export {
  writeIdempotencyResponse,
  groupHeaders,
  REPLAYED_HEADER,
  type IdempotencyResponse,
} from './response';
