import { ElexError } from '../core/index.js';
import type { Address } from './tcp-transport.js';

/** `host:port` (IPv6 hosts in brackets: `[::1]:7001`). */
export function parseAddress(text: string): Address {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text.trim());
  const port = m === null ? Number.NaN : Number(m[3]);
  if (m === null || !(port >= 0 && port <= 65535))
    throw new ElexError('E_USAGE', `expected host:port (e.g. 127.0.0.1:7001), got '${text}'`);
  return { host: m[1] ?? m[2], port };
}

export function formatAddress(a: Address): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/** `1=127.0.0.1:7001,2=127.0.0.1:7002,…`: every voter's Raft address by id. */
export function parseCluster(text: string): Map<number, Address> {
  const out = new Map<number, Address>();
  for (const part of text.split(',')) {
    const m = /^\s*(\d+)=(.+)$/.exec(part);
    if (m === null) throw new ElexError('E_USAGE', `expected id=host:port in --cluster, got '${part}'`);
    const id = Number(m[1]);
    if (!Number.isSafeInteger(id) || id > 0xffff)
      throw new ElexError('E_USAGE', `node id ${m[1]} out of range (0..65535)`);
    if (out.has(id)) throw new ElexError('E_USAGE', `node ${id} appears twice in --cluster`);
    out.set(id, parseAddress(m[2]));
  }
  refuseSharedAddresses(out, 'nodes', '--cluster');
  return out;
}

export function formatCluster(c: ReadonlyMap<number, Address>): string {
  return [...c].map(([id, a]) => `${id}=${formatAddress(a)}`).join(',');
}

/** `m0=127.0.0.1:7100,m1=127.0.0.1:7101,…`: members named by id, each with its address. */
export function parseNamedAddresses(text: string, what = '--members'): Map<string, Address> {
  const out = new Map<string, Address>();
  for (const part of text.split(',')) {
    const m = /^\s*([A-Za-z0-9._-]{1,64})=(.+)$/.exec(part);
    if (m === null) throw new ElexError('E_USAGE', `expected id=host:port in ${what}, got '${part}'`);
    if (out.has(m[1])) throw new ElexError('E_USAGE', `member ${m[1]} appears twice in ${what}`);
    out.set(m[1], parseAddress(m[2]));
  }
  refuseSharedAddresses(out, 'members', what);
  return out;
}

/** Two ids at one address: both would bind it, or one would receive the other's traffic. */
function refuseSharedAddresses<K>(byId: ReadonlyMap<K, Address>, what: string, option: string): void {
  const owner = new Map<string, K>();
  for (const [id, a] of byId) {
    const key = formatAddress(a);
    const first = owner.get(key);
    if (first !== undefined)
      throw new ElexError('E_USAGE', `${option} gives ${key} to both ${what} ${first} and ${id}`);
    owner.set(key, id);
  }
}
