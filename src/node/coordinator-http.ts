import type { Server } from 'node:http';
import { ElexError } from '../core/index.js';
import type { Catalog } from '../swarm/index.js';
import type { ClientCommand, CoordinatorNode } from './coordinator-node.js';
import { type JsonRequest, notFound, pathParam, serveJson } from './http-api.js';
import type { Address } from './tcp-transport.js';

const ROUTES = 'GET /status, POST /commands, GET /features/<id|FAJ|acronym>, GET /active';

function parseJson(text: string): ClientCommand {
  try {
    return JSON.parse(text) as ClientCommand; // validated by CoordinatorNode.command
  } catch {
    throw new ElexError('E_BAD_COMMAND', 'the body is not JSON');
  }
}

async function route(node: CoordinatorNode, catalog: Catalog, req: JsonRequest): Promise<[number, unknown]> {
  if (req.path === '/status' && req.method === 'GET') return [200, node.status()];
  if (req.path === '/commands' && req.method === 'POST') {
    const result = await node.command(parseJson(await req.body()));
    return [result.ok ? 200 : 409, result];
  }
  if (req.path === '/active' && req.method === 'GET') {
    const { index, value } = await node.read((m) => m.activeFeatures());
    return [200, { index, features: value }];
  }
  if (req.path.startsWith('/features/') && req.method === 'GET') {
    const ref = pathParam(req.path, '/features/');
    let id: string;
    try {
      id = catalog.resolve(ref).id;
    } catch (e) {
      throw new ElexError('E_UNKNOWN_FEATURE', e instanceof Error ? e.message : String(e));
    }
    const { index, value } = await node.read((m) => ({
      active: m.isActive(id),
      active_since: m.activeSince(id) ?? null,
      dependency_check: m.dependencyCheck(id),
      values: m.valuesOf(id),
      agents: m.agentsFor(id),
    }));
    return [200, { index, feature: id, ...value }];
  }
  return notFound(req, ROUTES);
}

/**
 * A coordinator's client API: `POST /commands` (a control-plane command as JSON, without `at_ms`: the
 * coordinator stamps it; 200 with the result, 409 with the refusal), linearizable reads `GET /features/<ref>`
 * and `GET /active` (each with the Raft `index` it was read at), `GET /status`.
 */
export function serveCoordinatorHttp(node: CoordinatorNode, catalog: Catalog, at: Address): Promise<Server> {
  return serveJson(at, (req) => route(node, catalog, req));
}
