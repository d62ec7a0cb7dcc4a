import { createSocket, type Socket } from 'node:dgram';
import { ElexError } from '../core/index.js';
import { formatAddress } from './address.js';
import type { Address } from './tcp-transport.js';

/** A UDP socket bound to `listen` (udp6 for an IPv6 host) and the address it got; `E_LISTEN` if it cannot bind. */
export async function bindUdp(listen: Address): Promise<{ socket: Socket; address: Address }> {
  const socket = createSocket(listen.host.includes(':') ? 'udp6' : 'udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', (e) => {
      // The socket holds a descriptor from its creation: give it back (20 failed starts held 20).
      socket.close();
      reject(new ElexError('E_LISTEN', `cannot bind UDP ${formatAddress(listen)}: ${e.message}`));
    });
    socket.bind(listen.port, listen.host, () => resolve());
  });
  const bound = socket.address();
  return { socket, address: { host: bound.address, port: bound.port } };
}
