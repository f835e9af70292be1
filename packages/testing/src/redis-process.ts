import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports';
import { redisServerBinary } from './redis-binary';

// Every redis-server runs under a tiny shell guard that holds a pipe from this
// process: when this process dies for any reason (a failed test, Ctrl-C, a
// crashed Jest worker, SIGKILL), the pipe closes, `read` returns, and the guard
// kills Redis. No orphaned servers, even when no exit handler gets to run.
const GUARD = [
  // An asynchronous list gets /dev/null as stdin; keep the pipe on fd 3.
  'exec 3<&0',
  '"$0" "$@" </dev/null 3<&- &',
  'pid=$!',
  'echo "pid $pid"',
  'trap \'kill -9 $pid 2>/dev/null; exit 0\' TERM INT HUP',
  '(while read -r _ <&3; do :; done; kill -9 $pid 2>/dev/null) &',
  'wait $pid',
].join('\n');

const live = new Set<RedisProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const p of live) p.killNow();
  });
}

export interface RedisProcessOptions {
  /** Extra `redis-server` arguments, e.g. `['--appendonly', 'yes']`. */
  args?: string[];
  /** Run as a sentinel with this config text (port and dir are added). */
  sentinelConfig?: string;
  /** Fixed port; default a free one. */
  port?: number;
}

/** A redis-server (or sentinel) process on 127.0.0.1 that this process owns. */
export class RedisProcess {
  readonly host = '127.0.0.1';
  port = 0;
  /** Working directory (AOF, RDB, nodes.conf); kept across restart(), removed by stop(). */
  readonly dir: string;
  private child: ChildProcess | undefined;
  private redisPid: number | undefined;
  private output = '';
  private exited: Promise<void> = Promise.resolve();

  constructor(private readonly options: RedisProcessOptions = {}) {
    this.dir = mkdtempSync(join(tmpdir(), 'rediskit-'));
  }

  get url(): string {
    return `redis://${this.host}:${this.port}`;
  }

  /** PID of redis-server itself (for SIGSTOP/SIGCONT in fault tests). */
  get pid(): number | undefined {
    return this.redisPid;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /** Starts the server and waits until it answers PING. Retries on a port race. */
  async start(): Promise<void> {
    if (this.child) return;
    let lastError: unknown;
    for (let attempt = 0; attempt < 6; attempt++) {
      const port = this.port || this.options.port || (await freePort());
      try {
        await this.spawnOn(port);
        return;
      } catch (error) {
        lastError = error;
        await this.kill();
        if (this.port || this.options.port) {
          // A fixed port (a restart): give the old socket a moment to go.
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    }
    throw lastError;
  }

  private async spawnOn(port: number): Promise<void> {
    const binary = await redisServerBinary();
    let args: string[];
    if (this.options.sentinelConfig !== undefined) {
      const conf = join(this.dir, 'sentinel.conf');
      writeFileSync(conf, `port ${port}\nbind 127.0.0.1\ndir ${this.dir}\n${this.options.sentinelConfig}\n`);
      args = [conf, '--sentinel'];
    } else {
      args = [
        '--port', String(port),
        '--bind', '127.0.0.1',
        '--protected-mode', 'no',
        '--save', '',
        '--appendonly', 'no',
        '--dir', this.dir,
        '--daemonize', 'no',
        '--repl-diskless-sync-delay', '0',
        ...(this.options.args ?? []),
      ];
    }
    this.output = '';
    const child = spawn('/bin/sh', ['-c', GUARD, binary, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    live.add(this);
    installExitHook();
    // The pipe must not keep the test process alive on its own.
    for (const s of [child.stdin, child.stdout, child.stderr]) (s as unknown as { unref?: () => void })?.unref?.();
    child.unref();
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      const m = /^pid (\d+)$/m.exec(text);
      if (m && this.redisPid === undefined) this.redisPid = Number(m[1]);
      this.output = (this.output + text).slice(-4000);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    let dead = false;
    void this.exited.then(() => {
      dead = true;
    });
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (dead) throw new Error(`redis-server exited on port ${port}:\n${this.output}`);
      if (await ping(this.host, port)) {
        this.port = port;
        return;
      }
      await new Promise((r) => setTimeout(r, 15));
    }
    throw new Error(`redis-server did not answer PING on port ${port} within 15 s:\n${this.output}`);
  }

  /** Kills the server (SIGKILL: like a crash) but keeps its port and data dir for restart(). */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child) return;
    // The child is unref'd so it never holds the test process open; while we
    // wait for its exit, hold the event loop, or a caller with nothing else
    // pending (Jest's globalTeardown) would see the process end mid-await.
    child.ref();
    const keepAlive = setTimeout(() => {}, 10_000);
    try {
      this.killNow();
      await Promise.race([this.exited, new Promise((r) => setTimeout(r, 5000).unref())]);
    } finally {
      clearTimeout(keepAlive);
    }
  }

  /** Synchronous kill, for exit hooks. */
  killNow(): void {
    const child = this.child;
    if (!child) return;
    if (this.redisPid !== undefined) {
      try {
        process.kill(this.redisPid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    child.stdin?.destroy();
    try {
      child.kill('SIGTERM');
    } catch {
      // already gone
    }
    this.child = undefined;
    this.redisPid = undefined;
    live.delete(this);
  }

  /** Starts again on the same port with the same data dir (AOF survives). */
  async restart(): Promise<void> {
    await this.kill();
    await this.start();
  }

  /** Freezes the process (SIGSTOP): the port accepts connections but nothing answers. */
  pause(): void {
    if (this.redisPid !== undefined) process.kill(this.redisPid, 'SIGSTOP');
  }

  /** Undoes pause(). */
  resume(): void {
    if (this.redisPid !== undefined) process.kill(this.redisPid, 'SIGCONT');
  }

  /** Kills the server and removes its data dir. */
  async stop(): Promise<void> {
    if (this.redisPid !== undefined) {
      try {
        process.kill(this.redisPid, 'SIGCONT');
      } catch {
        // not paused or gone
      }
    }
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** The last lines the server printed (for failure messages). */
  get log(): string {
    return this.output;
  }
}

/** True when `host:port` answers a RESP PING with PONG within 500 ms. */
export function ping(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    let done = false;
    const finish = (ok: boolean) => {
      if (done) return;
      done = true;
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => finish(false));
    socket.once('error', () => finish(false));
    socket.once('data', (d) => finish(d.toString().startsWith('+PONG')));
    socket.connect(port, host, () => socket.write('PING\r\n'));
  });
}
