import { afterEach } from 'vitest';
// Shared setup for the venet tests: a host with the venet classes, and a scripted guest
// running test/fixtures/guest-venet.mjs (the real guest driver) on a bus.
import { VbusHost, registerVenetClasses, type Bus, type Device } from '../../dist/src/index.js';
import { drive, type Scripted } from './scripted.js';
import { adminView } from '../../dist/src/index.js';
import type { Transport } from './transports.js';

export const VENET_GUEST_URL = new URL('../fixtures/guest-venet.mjs', import.meta.url);

export function venetHost(transport: Transport = 'shared'): VbusHost {
  const host = new VbusHost({ transport });
  registerVenetClasses(host);
  return host;
}

/** A host with one venet-loopback `lo0` on bus `lan0`, placed as asked. */
export function loopbackHost(placement: 'host' | 'backend', transport: Transport = 'shared'): { host: VbusHost; bus: Bus; dev: Device } {
  const host = venetHost(transport);
  const bus = host.createBus('lan0', { memoryBytes: 4 << 20 });
  const dev = host.createDevice('lo0');
  host.setType(dev, 'venet-loopback');
  host.setPlacement(dev, placement);
  host.link(bus, dev);
  return { host, bus, dev };
}

/**
 * For a test file: returns setup(placement) -> loopbackHost(placement), and releases the
 * host it made after each test (guests, endpoints, backends, then the objects).
 */
export function useLoopbackHosts(): (placement: 'host' | 'backend', transport?: Transport) => ReturnType<typeof loopbackHost> {
  let host: VbusHost | undefined;
  afterEach(async () => {
    if (host) { await host.connector.release(); host.release(); host = undefined; }
  });
  return (placement, transport) => {
    const made = loopbackHost(placement, transport);
    host = made.host;
    return made;
  };
}

/** Spawns a venet guest on `bus`, waits for it to be ready, opens device `dev`. */
export async function venetGuest(host: VbusHost, bus: Bus, dev = 0, opts: Record<string, unknown> = {}): Promise<Scripted & { mac: string; mtu: number; link: boolean }> {
  const g = drive(host.spawnGuest(bus, VENET_GUEST_URL));
  await g.waitEvent((e) => e.event === 'ready');
  const r = await g.cmd('open', { dev, opts });
  if (!r.ok) throw new Error(`open failed: ${r.error} ${r.message}`);
  return Object.assign(g, { mac: r.mac as string, mtu: r.mtu as number, link: r.link as boolean });
}

/** Reads a counter attribute as a number. */
export function counter(host: VbusHost, dev: string, name: string): number {
  return Number(adminView(host).read(`/config/vbus/devices/${dev}/${name}`));
}

/** Polls `fn` until it returns true (for counters the device flushes after a pass). */
export async function eventually(fn: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
