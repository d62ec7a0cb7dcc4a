import { createServer, type Server, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpJson } from '../../src/node/http-client.js';
import type { Address } from '../../src/node/tcp-transport.js';
import { waitUntil } from '../support/wait.js';

/** A JSON array of zeros about `bytes` long: `[0,0,...,0]`, with `(bytes - 1) / 2` elements. */
function jsonOf(bytes: number): Buffer {
  return Buffer.from(`[${'0,'.repeat((bytes - 3) / 2)}0]`);
}

const MiB = 1 << 20;
const SIZE = { small: 7 * MiB + 1, large: 9 * MiB + 1 };
let server: Server;
let at: Address;
/** Replies whose connection the client closed before the server had sent the whole body. */
let cut = 0;

function send(res: ServerResponse, body: Buffer, declare: boolean): void {
  res.writeHead(200, declare ? { 'content-length': body.length } : {});
  res.end(body);
}

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/small') send(res, jsonOf(SIZE.small), true);
    else if (req.url === '/declared') send(res, jsonOf(SIZE.large), true);
    else if (req.url === '/chunked') send(res, jsonOf(SIZE.large), false);
    else {
      // Declares 9 MiB and sends none of it: only a client that believes the header stops waiting.
      res.writeHead(200, { 'content-length': SIZE.large });
      res.flushHeaders();
      res.on('close', () => {
        if (!res.writableFinished) cut++;
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const a = server.address() as { port: number };
  at = { host: '127.0.0.1', port: a.port };
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('httpJson', () => {
  it('parses a reply under the 8 MiB default cap', async () => {
    const r = await httpJson(at, 'GET', '/small');
    expect(r?.status).toBe(200);
    expect(Array.isArray(r?.body) && r.body.length).toBe((SIZE.small - 1) / 2);
  });

  it('returns null for a 9 MiB reply, declared or streamed without a length', async () => {
    expect(await httpJson(at, 'GET', '/declared')).toBeNull();
    expect(await httpJson(at, 'GET', '/chunked')).toBeNull();
  });

  it('gives up on a declared length above the cap without waiting for the body', async () => {
    // The timeout is far away: a client that reads the body would still be waiting when the poll gives up.
    const r = httpJson(at, 'GET', '/silent', undefined, 60_000);
    await waitUntil(() => cut === 1, 5000);
    expect(await r).toBeNull();
  });

  it('takes the cap as a parameter', async () => {
    expect(await httpJson(at, 'GET', '/small', undefined, 6000, undefined, MiB)).toBeNull();
  });
});
