import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';

/**
 * A sleep that `wake()` cuts short, for background loops that must stop
 * promptly on shutdown or react to a freed slot.
 */
export class Sleeper {
  private wakers = new Set<() => void>();

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      this.wakers.add(done);
    });
  }

  wake(): void {
    for (const w of [...this.wakers]) w();
  }
}

/** Capped exponential backoff with jitter for background loops retrying Redis: 50 ms, 100 ms, ... up to `max`. */
export function loopBackoff(failures: number, max = 2000): number {
  const base = Math.min(max, 50 * 2 ** Math.min(failures, 10));
  return Math.floor(base / 2 + Math.random() * (base / 2));
}

/** The message of anything thrown, bounded in length. */
export function errorText(error: unknown, max = 1000): string {
  let text: string;
  if (error instanceof Error) text = error.message || error.name;
  else if (typeof error === 'string') text = error;
  else {
    try {
      text = JSON.stringify(error) ?? String(error);
    } catch {
      text = String(error);
    }
  }
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

const PROCESS_TAG = randomBytes(3).toString('hex');

/**
 * `<hostname>:<pid>:<random per process>`: the same for the life of a process
 * (across reconnects), different after a restart or in another process on the
 * same host. Workers and consumers derive their names from it.
 */
export function processIdentity(): string {
  return `${hostname()}:${process.pid}:${PROCESS_TAG}`;
}
