import { beforeAll, describe, expect, it, vi } from 'vitest';
import { SeededRng } from '../../src/core/index.js';
import type { Delta } from '../../src/learning/delta-codec.js';
import { ENVELOPE, envelope } from '../../src/learning/envelope.js';
import type * as Learning from '../../src/learning/index.js';

/** What the bench hands to the codec and to the merge, recorded through the module it imports them from. */
const seen = vi.hoisted(() => ({
  encoded: [] as Array<{ count: number; bytes: number; d: unknown }>,
  plainMerges: [] as number[],
}));

vi.mock('../../src/learning/index.js', async (importOriginal) => {
  const real = await importOriginal<typeof Learning>();
  return {
    ...real,
    encodeDelta: (d: Delta, signer: Learning.Identity) => {
      const out = real.encodeDelta(d, signer);
      if (seen.encoded.length < 4) seen.encoded.push({ count: d.count, bytes: out.length, d: { ...d } });
      return out;
    },
    mergeVisitWeightedInto: (t: Learning.QTable, d: Delta) => {
      seen.plainMerges.push(d.count);
      return real.mergeVisitWeightedInto(t, d);
    },
  };
});

const { runFederationBench } = await import('../../src/cli/bench/federation.js');
const L = await import('../../src/learning/index.js');

const REPEAT = 1;
let report: ReturnType<typeof runFederationBench>;

beforeAll(() => {
  report = runFederationBench({ repeat: REPEAT });
}, 120_000);

/** The bytes `FederatedQTable.send` puts on the network for `d`: addressed to a peer, behind the envelope byte. */
function onTheWire(d: Delta): number {
  const id = L.identityFromRng('bench-a', new SeededRng(9));
  return envelope(ENVELOPE.delta, L.encodeDelta({ ...d, to: 'bench-b' }, id)).length;
}

describe('elex bench federation measures what it names (session 24, from a review)', () => {
  it('bytes_sync_10_interactions counts the sync message as sent: addressed to its recipient, with its envelope byte', () => {
    // Before: 167, the delta unaddressed and without its envelope byte.
    const sync = seen.encoded.find((e) => e.count === 10 && (e.d as Delta).to !== undefined);
    expect(report.bytes_sync_10_interactions).toBe(onTheWire(sync?.d as Delta));
    expect(report.bytes_sync_10_interactions).toBeLessThanOrEqual(512);
  });

  it('bytes_full_10k counts the 10k-entry sync as sent: addressed, with its envelope byte', () => {
    const full = seen.encoded.find((e) => e.count === 10_000);
    expect(report.bytes_full_10k).toBe(onTheWire(full?.d as Delta));
  });

  it('--repeat N times each merge N times (the 1M merge too), after its untimed warm-ups', () => {
    // merge_1m_into_1m_ms: 2 untimed warm-ups, then --repeat timed runs, as the option's help says (before:
    // at least 3 and at most 7, whatever --repeat said).
    const merges1m = seen.plainMerges.filter((c) => c === 1_000_000).length;
    // Two 1M series (random order, then in order): each should be repeated --repeat times.
    expect(merges1m).toBe(2 + REPEAT + REPEAT);
  });
});
