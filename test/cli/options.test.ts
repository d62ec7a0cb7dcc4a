import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { durationOption, listOption } from '../../src/cli/options.js';

function refusal(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidArgumentError);
    return (e as Error).message;
  }
  throw new Error('expected a refusal');
}

describe('option parsers', () => {
  it('durations are whole milliseconds: 1.5s is 1500, 0.5ms and 1.0001s are refused', () => {
    expect(durationOption('1.5s')).toBe(1500);
    expect(durationOption('250')).toBe(250);
    expect(durationOption('1.1s')).toBe(1100); // 1.1 × 1000 is 1100.0000000000002 in binary
    expect(refusal(() => durationOption('0.5ms'))).toMatch(/whole number of milliseconds/);
    expect(refusal(() => durationOption('1.0001s'))).toMatch(/whole number of milliseconds/);
  });

  it('a comma list names each choice once', () => {
    const attacks = listOption(['none', 'sign-flip', 'alie'] as const);
    expect(attacks('none,alie')).toBe('none,alie');
    expect(refusal(() => attacks('sign-flip,alie,sign-flip'))).toMatch(/'sign-flip' twice/);
  });
});
