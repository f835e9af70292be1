export default async function globalTeardown(): Promise<void> {
  await (globalThis as { __rediskitTeardown?: () => Promise<void> }).__rediskitTeardown?.();
}
