/** A TCP port that was free on 127.0.0.1 a moment ago (callers retry on a race). */
export declare function freePort(): Promise<number>;
