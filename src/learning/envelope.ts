/**
 * The one byte in front of every `FederatedQTable` message on a `FederationNetwork`: what follows is a signed
 * delta (delta-codec.ts), a signed control message (control.ts) or an election certificate (certificate.ts).
 */
export const ENVELOPE = { delta: 1, control: 2, certificate: 3 } as const;
export type EnvelopeKind = (typeof ENVELOPE)[keyof typeof ENVELOPE];

export function envelope(kind: EnvelopeKind, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(body.length + 1);
  out[0] = kind;
  out.set(body, 1);
  return out;
}
