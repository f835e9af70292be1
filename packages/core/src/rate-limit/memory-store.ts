import type { ScriptArg } from '../redis/script';

// An in-process twin of rate-limit-consume.lua and rate-limit-settle.lua:
// the same arguments, the same integer arithmetic, the same replies (always
// in the long form, six values per policy: the script shortens an admitted
// decision to three, which RateLimiter reads alike), over a Map with expiry
// instead of Redis. It serves the `local` failure policy (a
// per-process limiter while Redis is unreachable) and lets tests replay the
// exact timestamps Redis decided at to check the scripts against it.

type Entry =
  | { kind: 'str'; v: number; exp: number }
  | { kind: 'hash'; f: Record<string, number>; exp: number }
  | { kind: 'zset'; m: Map<string, number>; exp: number };

const NO_EXPIRY = Number.POSITIVE_INFINITY;

function divFloor(a: number, b: number): number {
  let q = Math.floor(a / b);
  while (q * b > a) q--;
  while ((q + 1) * b <= a) q++;
  return q;
}

function divCeil(a: number, b: number): number {
  return -divFloor(-a, b);
}

function slidingWait(p: number, c: number, e: number, W: number, L: number, need: number): number {
  const deficit = p * (W - e) + c * W - (L - need) * W;
  if (deficit <= 0) return 0;
  if (p > 0) {
    const d = divCeil(deficit, p);
    if (e + d <= W) return d;
  }
  const over = c - (L - need);
  const e2 = over > 0 ? divCeil(over * W, c) : 0;
  return W - e + e2;
}

interface PolicyState {
  algo: number;
  L: number;
  W: number;
  B: number;
  block: number;
  k: string;
  bk: string;
  ok: boolean;
  blocked: number;
  retry: number;
  v: number;
  pt: number;
  idx: number;
  e: number;
  c: number;
  p: number;
  cap: number;
  tk: number;
  T: number;
  tol: number;
  tat: number;
  held: number;
}

/**
 * The rate-limit scripts run in process memory. Keeps at most `maxKeys`
 * keys; past that the oldest are dropped (a dropped key reads as a fresh
 * client, which is the fail-open direction).
 *
 * @example
 * const store = new MemoryRateStore();
 * // The same KEYS and ARGV as rate-limit-consume.lua, at a given time in microseconds:
 * const reply = store.consume(['k', 'k:block'], ['consume', 1, '0', '', 1000, 4, 10, 1000, 10, 0], Date.now() * 1000);
 */
export class MemoryRateStore {
  private readonly data = new Map<string, Entry>();

  constructor(private readonly maxKeys = 10_000) {}

  get size(): number {
    return this.data.size;
  }

  private live(key: string, nowMs: number): Entry | undefined {
    const entry = this.data.get(key);
    if (entry && entry.exp <= nowMs) {
      this.data.delete(key);
      return undefined;
    }
    return entry;
  }

  private put(key: string, entry: Entry): void {
    this.data.delete(key);
    this.data.set(key, entry);
    if (this.data.size > this.maxKeys) {
      // Drop what has expired first, then the least recently written.
      const now = Date.now();
      for (const [k, e] of this.data) if (e.exp <= now) this.data.delete(k);
      while (this.data.size > this.maxKeys) this.data.delete(this.data.keys().next().value as string);
    }
  }

  private pttl(key: string, nowMs: number): number {
    const e = this.live(key, nowMs);
    if (!e) return -2;
    return e.exp === NO_EXPIRY ? -1 : e.exp - nowMs;
  }

  delete(keys: readonly string[]): number {
    let n = 0;
    for (const k of keys) if (this.data.delete(k)) n++;
    return n;
  }

  /** rate-limit-consume.lua at `nowUs` (microseconds since the epoch). */
  consume(keys: readonly string[], argv: readonly ScriptArg[], nowUs: number): number[] {
    const a = argv.map(String);
    const now = Math.floor(nowUs / 1000);
    const mode = a[0];
    const cost = Number(a[1]);
    const chargeRejected = a[2] === '1';
    const leaseId = a[3]!;
    const leaseTtl = Number(a[4]);
    const n = keys.length / 2;
    const leaseNeed = cost === 0 ? 0 : 1;
    const policies: PolicyState[] = [];
    let admitted = true;
    const wait = (s: PolicyState, charged: boolean): number => {
      const { W, L } = s;
      if (s.algo === 1) return s.pt > 0 ? s.pt : W;
      if (s.algo === 2) return slidingWait(s.p, charged ? s.c + cost : s.c, s.e, W, L, cost);
      if (s.algo === 3) return divCeil(cost * W - (charged ? s.tk - cost * W : s.tk), L);
      if (s.algo === 4) return divCeil((charged ? s.tat + cost * s.T : s.tat) + cost * s.T - s.tol - nowUs, 1000);
      return s.B;
    };

    for (let i = 0; i < n; i++) {
      const b = 5 + i * 5;
      const s = {
        algo: Number(a[b]),
        L: Number(a[b + 1]),
        W: Number(a[b + 2]),
        B: Number(a[b + 3]),
        block: Number(a[b + 4]),
        k: keys[2 * i]!,
        bk: keys[2 * i + 1]!,
        ok: true,
        blocked: 0,
        retry: 0,
      } as PolicyState;
      if (s.block > 0 && mode !== 'penalty') {
        const pb = this.pttl(s.bk, now);
        if (pb > 0) s.blocked = pb;
      }
      const { L, W } = s;
      if (s.algo === 1) {
        const e = this.live(s.k, now);
        s.v = e?.kind === 'str' ? e.v : 0;
        s.pt = this.pttl(s.k, now);
        if (s.pt <= 0) s.v = 0;
        s.ok = s.v + cost <= L;
        if (!s.ok) s.retry = wait(s, false);
      } else if (s.algo === 2) {
        s.idx = Math.floor(now / W);
        s.e = now - s.idx * W;
        const e = this.live(s.k, now);
        const f = e?.kind === 'hash' ? e.f : undefined;
        const sw = f?.w;
        s.c = f?.c ?? 0;
        s.p = f?.p ?? 0;
        if (sw === undefined) {
          s.c = 0;
          s.p = 0;
        } else if (sw === s.idx - 1) {
          s.p = s.c;
          s.c = 0;
        } else if (sw !== s.idx) {
          s.c = 0;
          s.p = 0;
        }
        s.ok = s.p * (W - s.e) + (s.c + cost) * W <= L * W;
        if (!s.ok) s.retry = wait(s, false);
      } else if (s.algo === 3) {
        s.cap = s.B * W;
        const e = this.live(s.k, now);
        let tk: number;
        if (e?.kind !== 'hash' || e.f.tk === undefined || e.f.ts === undefined) {
          tk = s.cap;
        } else {
          tk = e.f.tk;
          const elapsed = now - e.f.ts;
          if (elapsed > 0) tk = elapsed >= divCeil(s.cap - tk, L) ? s.cap : tk + elapsed * L;
          if (tk > s.cap) tk = s.cap;
        }
        s.tk = tk;
        s.ok = tk >= cost * W;
        if (!s.ok) s.retry = wait(s, false);
      } else if (s.algo === 4) {
        s.T = Math.floor((W * 1000) / L);
        s.tol = s.B * s.T;
        const e = this.live(s.k, now);
        let tat = e?.kind === 'str' ? e.v : 0;
        if (tat < nowUs) tat = nowUs;
        s.tat = tat;
        s.ok = tat + cost * s.T - s.tol <= nowUs;
        if (!s.ok) s.retry = wait(s, false);
      } else {
        const e = this.live(s.k, now);
        if (e?.kind === 'zset' && mode === 'consume') for (const [m, score] of e.m) if (score <= now) e.m.delete(m);
        let held = 0;
        if (e?.kind === 'zset') for (const score of e.m.values()) if (score > now) held++;
        s.held = held;
        s.ok = held + leaseNeed <= L;
        if (!s.ok) s.retry = wait(s, false);
      }
      if (s.blocked > 0) {
        s.ok = false;
        if (s.blocked > s.retry) s.retry = s.blocked;
      }
      if (!s.ok) admitted = false;
      policies.push(s);
    }

    let charge = mode === 'peek' ? false : mode === 'penalty' ? true : admitted || chargeRejected;
    if (cost === 0) charge = false;

    const view = (s: PolicyState, charged: boolean): [number, number] => {
      const { L, W } = s;
      if (s.algo === 1) {
        const c = charged ? s.v + cost : s.v;
        const rem = Math.max(0, L - c);
        return [rem, c > 0 ? (s.pt > 0 ? s.pt : W) : 0];
      }
      if (s.algo === 2) {
        const c = charged ? s.c + cost : s.c;
        const rem = Math.max(0, divFloor(L * W - s.p * (W - s.e) - c * W, W));
        return [rem, rem < L ? slidingWait(s.p, c, s.e, W, L, rem + 1) : 0];
      }
      if (s.algo === 3) {
        const tk = charged ? s.tk - cost * W : s.tk;
        const rem = Math.max(0, divFloor(tk, W));
        return [rem, tk < s.cap ? divCeil((rem + 1) * W - tk, L) : 0];
      }
      if (s.algo === 4) {
        const nt = charged ? s.tat + cost * s.T : s.tat;
        const rem = Math.min(s.B, Math.max(0, divFloor(nowUs + s.tol - nt, s.T)));
        return [rem, rem < s.B ? divCeil(nt - s.tol + (rem + 1) * s.T - nowUs, 1000) : 0];
      }
      return [Math.max(0, L - (charged ? s.held + 1 : s.held)), 0];
    };

    const out: number[] = [nowUs, admitted ? 1 : 0];
    for (const s of policies) {
      let charged = false;
      let receipt = 0;
      if (charge) {
        if (s.algo === 1) {
          const exp = s.pt > 0 ? now + s.pt : now + s.W;
          this.put(s.k, { kind: 'str', v: s.v + cost, exp });
          receipt = exp;
          charged = true;
        } else if (s.algo === 2) {
          this.put(s.k, { kind: 'hash', f: { w: s.idx, c: s.c + cost, p: s.p }, exp: (s.idx + 2) * s.W });
          receipt = s.idx;
          charged = true;
        } else if (s.algo === 3) {
          const tk = s.tk - cost * s.W;
          this.put(s.k, { kind: 'hash', f: { tk, ts: now }, exp: now + Math.max(1, divCeil(s.cap - tk, s.L)) });
          charged = true;
        } else if (s.algo === 4) {
          const nt = s.tat + cost * s.T;
          this.put(s.k, { kind: 'str', v: nt, exp: now + Math.max(1, divCeil(nt - nowUs, 1000)) });
          charged = true;
        } else if (admitted && mode === 'consume') {
          const e = this.live(s.k, now);
          const m = e?.kind === 'zset' ? e.m : new Map<string, number>();
          m.set(leaseId, now + leaseTtl);
          const exp = Math.max(e?.kind === 'zset' ? e.exp : 0, now + leaseTtl);
          this.put(s.k, { kind: 'zset', m, exp });
          charged = true;
        }
      }
      if (charged && !s.ok && s.blocked === 0) s.retry = wait(s, true);
      let blocked = s.blocked;
      if (mode === 'consume' && !admitted && !s.ok && s.blocked === 0 && s.block > 0) {
        this.put(s.bk, { kind: 'str', v: 1, exp: now + s.block });
        if (s.block > s.retry) s.retry = s.block;
        blocked = s.block;
      }
      let [rem, reset] = view(s, charged);
      if (!s.ok) {
        rem = s.algo !== 5 && s.blocked === 0 ? view(s, charged)[0] : 0;
        reset = s.retry;
      }
      out.push(s.ok ? 1 : 0, rem, reset, s.ok ? 0 : s.retry, receipt, blocked);
    }
    return out;
  }

  /** rate-limit-settle.lua at `nowUs`. */
  settle(keys: readonly string[], argv: readonly ScriptArg[], nowUs: number): number {
    const a = argv.map(String);
    const now = Math.floor(nowUs / 1000);
    const action = a[0];
    const amount = Number(a[1]);
    const leaseAction = a[2];
    const leaseId = a[3]!;
    const leaseTtl = Number(a[4]);
    let changed = 0;
    keys.forEach((k, i) => {
      const b = 5 + i * 5;
      const algo = Number(a[b]);
      const L = Number(a[b + 1]);
      const W = Number(a[b + 2]);
      const B = Number(a[b + 3]);
      const receipt = Number(a[b + 4]);
      const e = this.live(k, now);
      if (algo === 5) {
        if (e?.kind !== 'zset') return;
        if (leaseAction === 'release' && e.m.delete(leaseId)) changed++;
        else if (leaseAction === 'renew' && e.m.has(leaseId)) {
          e.m.set(leaseId, now + leaseTtl);
          e.exp = Math.max(e.exp, now + leaseTtl);
          changed++;
        }
        return;
      }
      if (action === 'none' || amount <= 0 || !e) return;
      if (algo === 1 && e.kind === 'str') {
        const same = action === 'reward' || receipt === 0 || e.exp === receipt;
        if (e.v > 0 && same) {
          e.v -= Math.min(amount, e.v);
          changed++;
        }
      } else if (algo === 2 && e.kind === 'hash' && e.f.w !== undefined) {
        const sw = e.f.w;
        let field: 'c' | 'p' | undefined;
        if (action === 'reward') field = sw >= Math.floor(now / W) - 1 ? 'c' : undefined;
        else if (receipt === sw) field = 'c';
        else if (receipt === sw - 1) field = 'p';
        if (field) {
          const v = e.f[field] ?? 0;
          const d = Math.min(amount, v);
          if (d > 0) {
            e.f[field] = v - d;
            changed++;
          }
        }
      } else if (algo === 3 && e.kind === 'hash' && e.f.tk !== undefined && e.f.ts !== undefined) {
        const cap = B * W;
        let tk = e.f.tk;
        const elapsed = now - e.f.ts;
        if (elapsed > 0) tk = elapsed >= divCeil(cap - tk, L) ? cap : tk + elapsed * L;
        tk += amount * W;
        if (tk >= cap) this.data.delete(k);
        else this.put(k, { kind: 'hash', f: { tk, ts: now }, exp: now + divCeil(cap - tk, L) });
        changed++;
      } else if (algo === 4 && e.kind === 'str' && e.v > nowUs) {
        const T = Math.floor((W * 1000) / L);
        const nt = e.v - amount * T;
        if (nt <= nowUs) this.data.delete(k);
        else this.put(k, { kind: 'str', v: nt, exp: now + divCeil(nt - nowUs, 1000) });
        changed++;
      }
    });
    return changed;
  }
}
