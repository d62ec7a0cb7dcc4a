import { describe, expect, it } from 'vitest';
import { formatAddress, parseAddress, parseCluster, parseNamedAddresses } from '../../src/node/address.js';
import { thrownElexError } from '../support/errors.js';

describe('addresses', () => {
  it('reads host:port (IPv6 in brackets) and writes it back', () => {
    expect(parseAddress('127.0.0.1:7001')).toEqual({ host: '127.0.0.1', port: 7001 });
    expect(formatAddress(parseAddress('[::1]:7001'))).toBe('[::1]:7001');
    for (const bad of ['localhost', '1.2.3.4:99999', ':80', '[::1]'])
      expect(thrownElexError(() => parseAddress(bad)).code).toBe('E_USAGE');
  });

  it('reads members named by id, refusing malformed entries and repeated ids', () => {
    const m = parseNamedAddresses('m0=127.0.0.1:7100, m1=[::1]:7101');
    expect([...m]).toEqual([
      ['m0', { host: '127.0.0.1', port: 7100 }],
      ['m1', { host: '::1', port: 7101 }],
    ]);
    for (const bad of ['m0', 'm0=127.0.0.1:1,m0=127.0.0.1:2', 'a b=127.0.0.1:1', 'm0=nowhere'])
      expect(thrownElexError(() => parseNamedAddresses(bad)).code).toBe('E_USAGE');
  });

  it('refuses one address given to two nodes or members (both would bind it, or one would get the other’s traffic)', () => {
    expect(thrownElexError(() => parseCluster('1=127.0.0.1:7001,2=127.0.0.1:7001')).message).toMatch(
      /127\.0\.0\.1:7001.*nodes? 1 and 2/,
    );
    expect(thrownElexError(() => parseNamedAddresses('a=[::1]:7100,b=[::1]:7100')).code).toBe('E_USAGE');
    expect([...parseCluster('1=127.0.0.1:7001,2=127.0.0.1:7002').keys()]).toEqual([1, 2]);
  });
});
