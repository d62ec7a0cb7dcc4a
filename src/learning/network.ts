/**
 * What the federation needs from a network: best-effort delivery of opaque byte messages between named
 * members. The gossip layer can implement this interface; `InMemoryNetwork` is for tests and embedding
 * (reliable, in order, delivered when the receiver next drains its inbox).
 */
export interface FederationNetwork {
  send(from: string, to: string, message: Uint8Array): void;
  /** Takes every message waiting for `id`, oldest first. */
  drain(id: string): Uint8Array[];
}

export class InMemoryNetwork implements FederationNetwork {
  private readonly inboxes = new Map<string, Uint8Array[]>();
  messages = 0;
  bytes = 0;
  /** Member ids that currently receive nothing (a crude partition for tests). */
  readonly isolated = new Set<string>();

  send(from: string, to: string, message: Uint8Array): void {
    if (this.isolated.has(from) || this.isolated.has(to)) return;
    this.messages++;
    this.bytes += message.length;
    let box = this.inboxes.get(to);
    if (!box) {
      box = [];
      this.inboxes.set(to, box);
    }
    box.push(message.slice());
  }

  drain(id: string): Uint8Array[] {
    const box = this.inboxes.get(id);
    if (!box || box.length === 0) return [];
    this.inboxes.set(id, []);
    return box;
  }

  /** Injects raw bytes as if sent (tests of hostile input). */
  inject(to: string, message: Uint8Array): void {
    this.send('', to, message);
  }
}
