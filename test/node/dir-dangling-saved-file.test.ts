/**
 * A member's saved files reached through a link whose target is gone (a data directory restored without the
 * volume a link points to) read as never saved: vote.json as term 0 with no vote, free to vote again in a term
 * it already voted in. A file that exists as a name but cannot be read is damaged, and refused.
 */
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { nextEpoch, readVoteState } from '../../src/node/federation-member.js';
import { thrownElexError } from '../support/errors.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function dir(): string {
  const d = mkdtempSync(join(tmpdir(), 'elex-dangling-'));
  dirs.push(d);
  return d;
}

describe('saved member files behind a dangling link', () => {
  it('vote.json linked to a missing file is E_STORAGE, not "no vote saved"', () => {
    const d = dir();
    symlinkSync(join(d, 'elsewhere', 'vote.json'), join(d, 'vote.json'));
    const e = thrownElexError(() => readVoteState(d), 'E_STORAGE');
    expect(e.message).toMatch(/vote\.json/);
  });

  it('epoch.json linked to a missing file is E_STORAGE (a life number would be reused)', () => {
    const d = dir();
    symlinkSync(join(d, 'gone.json'), join(d, 'epoch.json'));
    thrownElexError(() => nextEpoch(d), 'E_STORAGE');
  });

  it('no file at all is still "none saved"', () => {
    expect(readVoteState(dir())).toBeUndefined();
  });
});
