// Child processes of the harness: every one is tracked and killed when the
// harness exits, fails or is interrupted, so an unattended run leaves nothing behind.
import { fork } from 'node:child_process';

const live = new Map();
let hooked = false;

function killAll() {
  for (const [child] of live) {
    try {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    } catch {}
  }
  live.clear();
}

function hook() {
  if (hooked) return;
  hooked = true;
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      killAll();
      process.exit(130);
    });
  }
}

/** Registers a child to be killed with the harness; returns the unregister function. */
export function track(child, label) {
  hook();
  live.set(child, label);
  child.once('exit', () => live.delete(child));
  return () => live.delete(child);
}

/** Kills every tracked child (used on failure before rethrowing). */
export function killTracked() {
  killAll();
}

/**
 * A forked Node process that talks over IPC in request/reply pairs:
 * `await proc.request({ type: 'x', ... })` resolves with the child's reply
 * carrying the same `id`, or rejects with the child's error, its exit, or a timeout.
 */
export class Child {
  constructor(modulePath, args, { label, env, execArgv = [], stdio } = {}) {
    this.label = label ?? modulePath;
    this.stderr = '';
    this.child = fork(modulePath, args, {
      env: { ...process.env, ...env },
      execArgv,
      stdio: stdio ?? ['ignore', 'inherit', 'pipe', 'ipc'],
      serialization: 'advanced',
    });
    this.child.stderr?.on('data', (d) => {
      this.stderr = (this.stderr + d).slice(-8000);
      if (process.env.BENCH_VERBOSE) process.stderr.write(d);
    });
    track(this.child, this.label);
    this.pending = new Map();
    this.nextId = 1;
    this.events = [];
    this.child.on('message', (msg) => {
      const p = msg && msg.id !== undefined ? this.pending.get(msg.id) : undefined;
      if (!p) return this.events.push(msg);
      this.pending.delete(msg.id);
      clearTimeout(p.timer);
      if (msg.error) p.reject(new Error(`${this.label}: ${msg.error}`));
      else p.resolve(msg.value);
    });
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => {
        for (const p of this.pending.values()) {
          clearTimeout(p.timer);
          p.reject(new Error(`${this.label} exited (${signal ?? code}) ${this.stderr.trim().split('\n').slice(-12).join('\n')}`));
        }
        this.pending.clear();
        resolve({ code, signal });
      }),
    );
  }

  request(message, timeoutMs = 120_000) {
    if (this.child.exitCode !== null || this.child.signalCode !== null) {
      return Promise.reject(new Error(`${this.label} is not running: ${this.stderr.trim().split('\n').slice(-12).join('\n')}`));
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.label}: no answer to ${message.type} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.child.send({ ...message, id });
    });
  }

  async close(graceMs = 3000) {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    try {
      this.child.send({ type: 'exit' });
    } catch {}
    const t = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(t);
  }
}

/** The child side of {@link Child}: answers requests with `handlers[type](message)`. */
export function serve(handlers) {
  process.on('message', async (msg) => {
    if (msg?.type === 'exit') {
      try {
        await handlers.exit?.();
      } finally {
        process.exit(0);
      }
      return;
    }
    const handler = handlers[msg?.type];
    try {
      if (!handler) throw new Error(`unknown request ${msg?.type}`);
      const value = await handler(msg);
      process.send({ id: msg.id, value });
    } catch (e) {
      process.send({ id: msg.id, error: e?.stack ?? String(e) });
    }
  });
  // The harness died: do not linger.
  process.on('disconnect', () => process.exit(0));
}
