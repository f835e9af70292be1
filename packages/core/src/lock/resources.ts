import { RedisKitError } from '../errors';
import { hashTagOf, type KeySpace } from '../keys';

/** The Redis keys of one lock. */
export interface LockTarget {
  /** The resources as given, without duplicates, in the order given. */
  readonly resources: readonly string[];
  /** One lock hash per resource, in the order of `resources`. */
  readonly keys: readonly string[];
  /** The fencing counter shared by every resource of the hash tag. */
  readonly fenceKey: string;
  /** Pub/Sub channel on which a release with waiters wakes them (one per hash tag). */
  readonly channel: string;
}

/**
 * Maps resource names to keys. A resource's hash tag follows the Redis
 * rule (the text between the first `{` and the next `}`, else the whole
 * name), so `'{order:42}:items'` and `'{order:42}:payment'` share the tag
 * `order:42` and can be locked together on Cluster. Every key of a lock lives
 * under `prefix:{lock:<tag>}`; the tag is escaped like any key part, so a name
 * cannot break out of it.
 *
 * `'invoice:7'` -> `rk:{lock:invoice%3A7}` (counter `rk:{lock:invoice%3A7}:fence`,
 * wake-up channel `rk:{lock:invoice%3A7}:released`);
 * `'{order:42}:items'` -> `rk:{lock:order%3A42}:%7Border%3A42%7D%3Aitems`.
 * A name with a tag always gets an escaped suffix that contains `%7B`, so it
 * can never equal the bare key of an untagged name or the `fence` counter.
 */
export function lockTarget(keys: KeySpace, input: unknown, where: string): LockTarget {
  const list = typeof input === 'string' ? [input] : Array.isArray(input) ? (input as unknown[]) : undefined;
  if (!list || list.length === 0) {
    throw new RedisKitError(
      'ERR_REDISKIT_INVALID_OPTION',
      `${where}: resource must be a non-empty string or a non-empty array of them`,
      { details: { option: `${where}.resource` } },
    );
  }
  const resources: string[] = [];
  for (const r of list) {
    if (typeof r !== 'string' || r.length === 0) {
      throw new RedisKitError(
        'ERR_REDISKIT_INVALID_OPTION',
        `${where}: every resource must be a non-empty string; got ${JSON.stringify(r) ?? String(r)}`,
        { details: { option: `${where}.resource` } },
      );
    }
    if (!resources.includes(r)) resources.push(r);
  }
  const tag = hashTagOf(resources[0]!);
  for (const r of resources) {
    if (hashTagOf(r) !== tag) {
      throw new RedisKitError(
        'ERR_REDISKIT_CROSS_SLOT',
        `${where}: resources ${JSON.stringify(resources[0])} and ${JSON.stringify(r)} do not share a hash tag, so ` +
          'they cannot be locked in one atomic step on Redis Cluster. Name them under one tag, ' +
          "e.g. '{order:42}:items' and '{order:42}:payment', or take separate locks in a fixed order",
        { details: { operation: where, resources } },
      );
    }
  }
  const entity = keys.entity('lock', tag);
  return Object.freeze({
    resources: Object.freeze(resources),
    keys: Object.freeze(resources.map((r) => (r === tag ? entity.key() : entity.key(r)))),
    fenceKey: entity.key('fence'),
    channel: entity.key('released'),
  });
}
