/**
 * The glue between a v86 emulator and vbus drivers, platform-neutral:
 *  - NIC: every frame the VM's NIC transmits (`net0-send`) is sent on a venet driver's
 *    TX ring; every frame the driver receives is handed to the NIC (`net0-receive`). A
 *    full TX ring drops the frame (counted), as a NIC whose queue is full would.
 *  - Serial port 0: bytes the VM writes are gathered and written to a vconsole driver
 *    once per event-loop turn (a byte per ring record would be wasteful); bytes from
 *    the console go to the UART's input.
 * Everything stays on the worker's event loop: v86 runs its CPU in slices there, and
 * both drivers wait with waitAsync, so nothing here may block.
 */
import type { VenetDriver } from '../devices/venet/driver.js';
import type { GuestConsole } from '../devices/vconsole/driver.js';

/** The part of v86's emulator object the bridges use. */
export interface V86Emulator {
  add_listener(event: string, fn: (arg: never) => void): void;
  bus: { send(event: string, data: unknown): void };
  serial0_send(text: string): void;
  stop(): Promise<void> | void;
}

/** Counters of one bridged VM. */
export interface BridgeCounters {
  framesOut: number;
  framesIn: number;
  framesDropped: number;
  consoleBytes: number;
}

/** Bridges the VM's NIC to `drv`. */
export function bridgeNic(emu: V86Emulator, drv: VenetDriver, c: BridgeCounters): void {
  emu.add_listener('net0-send', ((frame: Uint8Array) => {
    if (frame.length > drv.maxFrame || !drv.send(frame)) { c.framesDropped++; return; }
    c.framesOut++;
  }) as (arg: never) => void);
  drv.onReceive((frame) => {
    c.framesIn++;
    emu.bus.send('net0-receive', frame.slice()); // a copy: the view is valid only during this call
  });
}

/** Bridges serial port 0 to `con`. */
export function bridgeSerial(emu: V86Emulator, con: GuestConsole, c: BridgeCounters): void {
  let pending: number[] = [];
  let chain: Promise<void> = Promise.resolve();
  const flush = (): void => {
    const bytes = Uint8Array.from(pending);
    pending = [];
    c.consoleBytes += bytes.length;
    chain = chain.then(() => con.write(bytes)).catch(() => { /* console closed: output dropped */ });
  };
  emu.add_listener('serial0-output-byte', ((b: number) => {
    if (pending.push(b) === 1) setTimeout(flush, 0);
  }) as (arg: never) => void);
  void con.onData((chunk) => {
    let s = '';
    for (let i = 0; i < chunk.length; i++) s += String.fromCharCode(chunk[i]!); // bytes, not UTF-8 text
    emu.serial0_send(s);
  });
}
