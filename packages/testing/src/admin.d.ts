import { Redis } from 'ioredis';
/** A short-lived admin connection that does not retry forever. */
export declare function adminClient(host: string, port: number): Redis;
/** Polls `check` until it returns true or `timeoutMs` passes. */
export declare function waitFor(what: string, check: () => Promise<boolean>, timeoutMs?: number, everyMs?: number): Promise<void>;
