import type { RedisKitLogger } from '../redis/logger';

/**
 * Switches for advisory checks: `false` turns all of them off, an object turns
 * off the ones named `false`. Advisory checks warn about setups that work but
 * are risky (an eviction policy that can drop locks, `trust proxy: true`, ...).
 */
export type ValidationsOption = boolean | Record<string, boolean>;

/**
 * Warns once per advisory name and process, unless switched off by name.
 * Modelled on express-rate-limit's validations: the warning names the check
 * so the user can switch exactly that one off.
 */
export class Advisories {
  private readonly seen = new Set<string>();

  constructor(
    private readonly validations: ValidationsOption,
    private readonly logger: RedisKitLogger,
    private readonly onWarn?: (name: string, message: string) => void,
  ) {}

  enabled(name: string): boolean {
    if (this.validations === false) return false;
    if (this.validations === true) return true;
    return this.validations[name] !== false;
  }

  /** Logs `message` the first time `name` fires; later calls are no-ops. */
  warn(name: string, message: string): void {
    if (!this.enabled(name) || this.seen.has(name)) return;
    this.seen.add(name);
    this.logger.warn(`${message} (switch this check off with validations: { ${JSON.stringify(name)}: false })`, {
      validation: name,
    });
    this.onWarn?.(name, message);
  }
}
