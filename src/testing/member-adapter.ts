/**
 * The one place the test kit touches the connector: it makes a bus member without a
 * worker and hands back what a guest gets at start (GuestBoot). Everything else in
 * src/testing speaks the guest's wire protocol over that boot, so a change inside the
 * connector only has to be followed here.
 */
import type { GuestBoot } from '../connector/types.js';
import type { Bus } from '../host/bus.js';
import type { VbusHost } from '../host/host.js';

export interface MemberAttachment {
  /** What a guest worker would receive as its start data. */
  readonly boot: GuestBoot;
  /** Leaves the bus: connections close, regions return, the member goes. Idempotent. */
  detach(): void;
}

/** Joins `bus` as a new member served by the host's connector, with no worker behind it. */
export function attachMember(host: VbusHost, bus: Bus): MemberAttachment {
  const endpoint = host.connector.endpoint(bus);
  const member = host.join(bus);
  let boot: GuestBoot;
  try {
    boot = endpoint.addMember(member.id);
  } catch (e) {
    host.leave(member);
    throw e;
  }
  let attached = true;
  return {
    boot,
    detach() {
      if (!attached) return;
      attached = false;
      if (endpoint.memberIds().includes(member.id)) endpoint.removeMember(member.id);
      if (member.isAlive) host.leave(member);
    },
  };
}
