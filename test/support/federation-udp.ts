import { SeededRng } from '../../src/core/index.js';
import { type Identity, identityFromRng, MapKeyring } from '../../src/learning/index.js';
import { UdpFederationNetwork } from '../../src/node/udp-federation.js';

/** Signing identities for `ids` (seeded from `seed`, one per id in order) and a keyring that knows them all. */
export function identitiesFor(
  ids: readonly string[],
  seed: number,
): { identities: Map<string, Identity>; keyring: MapKeyring } {
  const identities = new Map(ids.map((id, i) => [id, identityFromRng(id, new SeededRng(seed + i))]));
  const keyring = new MapKeyring();
  for (const [id, k] of identities) keyring.add(id, k.publicKey);
  return { identities, keyring };
}

/** One UDP network per id on 127.0.0.1 (ephemeral ports), each routed to every other. */
export async function boundNetworks(ids: readonly string[]): Promise<Map<string, UdpFederationNetwork>> {
  const nets = new Map<string, UdpFederationNetwork>();
  for (const id of ids)
    nets.set(id, await UdpFederationNetwork.bind({ id, listen: { host: '127.0.0.1', port: 0 } }));
  for (const [id, n] of nets) for (const [p, m] of nets) if (p !== id) n.route(p, m.address);
  return nets;
}
