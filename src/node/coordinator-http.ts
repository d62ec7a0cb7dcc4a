import type { Server } from 'node:http';
import type { Registry } from 'prom-client';
import { ElexError } from '../core/index.js';
import type { Catalog } from '../swarm/index.js';
import { ADMIN_ROUTES, adminRoute } from './admin-http.js';
import { patternsBody } from './agent-federation.js';
import { MIRROR_PATH } from './agent-mirror.js';
import type { CoordinatorGossip } from './coordinator-gossip.js';
import type { ClientCommand, CoordinatorNode } from './coordinator-node.js';
import { type JsonRequest, notFound, parseBody, pathParam, RawBody, serveJson } from './http-api.js';
import { addQueryMetrics, raftMetrics } from './metrics.js';
import {
  FORWARDED_FEEDBACK_PATH,
  feedbackBody,
  PART_PATH,
  partBody,
  type QueryService,
  queryBody,
} from './query-service.js';
import { guardFor, type RequestGuard, signedBody } from './signed-request.js';
import { STANDBY_FEEDBACK_PATH, STANDBY_PART_PATH } from './standby.js';
import { RETURN_PATH, returnBody } from './standby-return.js';
import type { Address } from './tcp-transport.js';

const ROUTES = `GET /status, GET /metrics, ${ADMIN_ROUTES}, POST /commands, POST /query, POST /feedback, GET /agents, GET /features/<id|FAJ|acronym>, GET /active`;

/**
 * The body as a command (validated by `CoordinatorNode.command`), its `feature` given by id, FAJ code, acronym
 * or name as the CLI takes it, resolved to the id the machine knows. An unresolvable one is left for the
 * machine to refuse (UNKNOWN_FEATURE).
 */
function parseCommand(text: string, catalog: Catalog): ClientCommand {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ElexError('E_BAD_COMMAND', 'the body is not JSON');
  }
  if (typeof body === 'object' && body !== null && 'feature' in body && typeof body.feature === 'string') {
    try {
      return { ...body, feature: catalog.resolve(body.feature).id } as ClientCommand;
    } catch {
      // refused by the machine, with its reason
    }
  }
  return body as ClientCommand;
}

async function route(
  node: CoordinatorNode,
  catalog: Catalog,
  metrics: Registry,
  queries: QueryService | null,
  gossip: CoordinatorGossip | undefined,
  guard: RequestGuard | null,
  req: JsonRequest,
): Promise<[number, unknown]> {
  if (req.path === '/status' && req.method === 'GET') return [200, node.status()];
  const admin = await adminRoute(node, req, guard);
  if (admin !== null) return admin;
  if (req.path === '/metrics' && req.method === 'GET')
    return [200, new RawBody(metrics.contentType, await metrics.metrics())];
  if (req.path === '/commands' && req.method === 'POST') {
    const result = await node.command(parseCommand(await req.body(), catalog));
    return [result.ok ? 200 : 409, result];
  }
  if (queries !== null && req.method === 'POST' && req.path === '/query') {
    const answer = await queries.query(parseBody(await req.body(), queryBody));
    // No target (NO_TARGET, UNKNOWN_FEATURE: no route) is an answer; a part that failed, whatever the reason its
    // coordinator gave, is a gateway failure.
    return [answer.ok || answer.route === null ? 200 : 502, answer];
  }
  if (queries !== null && req.method === 'POST' && req.path === '/feedback') {
    const r = await queries.feedback(parseBody(await req.body(), feedbackBody));
    // A hosting coordinator that could not be reached or answered nonsense is a gateway failure, not a refusal.
    return [r.accepted ? 200 : r.reason?.startsWith('COORDINATOR_') ? 502 : 409, r];
  }
  if (queries !== null && req.method === 'POST' && req.path === '/patterns') {
    // Another coordinator's agents' patterns: signed with the cluster key on a keyed cluster.
    const body = await signedBody(req, guard);
    return [200, queries.federation.receive(parseBody(body, patternsBody).patterns)];
  }
  if (queries !== null && req.method === 'POST' && req.path === MIRROR_PATH) {
    // The primary's agents' tables for the standby agents here: signed on a keyed cluster, like the patterns.
    const body = parseBody(await signedBody(req, guard), queries.mirror.schema);
    return queries.mirror.receive(body);
  }
  if (queries !== null && req.method === 'POST' && req.path === RETURN_PATH) {
    // The standby's agents' rated experiences, for the agents hosted here: signed on a keyed cluster. When they
    // could not be saved, `receive` throws E_NOT_SAVED (503): the standby keeps them and sends them again.
    const body = parseBody(await signedBody(req, guard), returnBody);
    return [200, queries.returns.receive(body)];
  }
  if (queries !== null && req.method === 'GET' && req.path === '/agents') {
    return [
      200,
      {
        hosted: queries.agentCount,
        standby: { ...queries.standby.stats, store: queries.standbyStore?.stats ?? null },
        failover: {
          ...queries.failover.stats,
          down: queries.failover.down.list(),
          // The other coordinators as this one's failure detector sees them (null: no gossip member runs), and
          // those whose coordinator list differs from this one's, or that this list does not name.
          gossip: gossip?.view() ?? null,
          list_mismatch: gossip?.mismatch() ?? null,
        },
        mirror: queries.mirror.stats,
        returns: { ...queries.returns.stats, pending: queries.returns.pending },
        federation: queries.federation.stats,
        // The patterns' broadcasts on the coordinators' gossip (null: none runs, patterns are POSTed).
        pattern_gossip: gossip ? { ...gossip.patterns.stats, pending: gossip.patterns.pending } : null,
        store: queries.store?.stats ?? null,
      },
    ];
  }
  if (
    queries !== null &&
    req.method === 'POST' &&
    (req.path === PART_PATH || req.path === STANDBY_PART_PATH)
  ) {
    // Another coordinator's share of a query, for the agents hosted here or (its primary did not answer) for the
    // standby agents: signed on a keyed cluster, or anyone could run the agents.
    const p = parseBody(await signedBody(req, guard), partBody);
    const part = req.path === PART_PATH ? await queries.part(p) : await queries.standbyPart(p);
    return ['answers' in part ? 200 : 409, part];
  }
  if (queries !== null && req.method === 'POST' && req.path === FORWARDED_FEEDBACK_PATH) {
    // A client's feedback another coordinator forwarded: signed on a keyed cluster, like a part.
    const r = queries.forwardedFeedback(parseBody(await signedBody(req, guard), feedbackBody));
    return [r.accepted ? 200 : 409, r];
  }
  if (queries !== null && req.method === 'POST' && req.path === STANDBY_FEEDBACK_PATH) {
    // A rating of an answer a standby agent gave, forwarded by a coordinator: signed on a keyed cluster.
    const r = queries.standby.feedback(parseBody(await signedBody(req, guard), feedbackBody));
    return [r.accepted ? 200 : 409, r];
  }
  if (req.path === '/active' && req.method === 'GET') {
    const { index, applied, value } = await node.read((m) => m.activeFeatures());
    return [200, { index, applied, features: value }];
  }
  if (req.path.startsWith('/features/') && req.method === 'GET') {
    const ref = pathParam(req.path, '/features/');
    let id: string;
    try {
      id = catalog.resolve(ref).id;
    } catch (e) {
      throw new ElexError('E_UNKNOWN_FEATURE', e instanceof Error ? e.message : String(e));
    }
    const { index, applied, value } = await node.read((m) => ({
      active: m.isActive(id),
      active_since: m.activeSince(id) ?? null,
      dependency_check: m.dependencyCheck(id),
      values: m.valuesOf(id),
      agents: m.agentsFor(id),
    }));
    return [200, { index, applied, feature: id, ...value }];
  }
  return notFound(req, ROUTES);
}

/**
 * A coordinator's client API: `POST /commands` (a control-plane command as JSON, without `at_ms`: the
 * coordinator stamps it; 200 with the result, 409 with the refusal), linearizable reads `GET /features/<ref>`
 * and `GET /active` (each with the Raft `index` it was read at), `GET /status`, `GET /metrics` (Prometheus);
 * with a `QueryService`, `POST /query` (answered by the feature agents across coordinators), `POST /feedback`
 * (a client's rating of an answer), and from the other coordinators, signed on a keyed cluster, `POST
 * /query/part` (a share of a query), `POST /feedback/forwarded` (a client's rating for an agent hosted here),
 * `POST /query/standby` and `POST /feedback/standby` (the same for the standby agents, when the primary did not
 * answer) and `POST /patterns` (their agents' patterns); `GET /agents` (the hosted and standby agents' counters);
 * the agents' federation and saves run while the server does, and closing it saves them. With a gossip member
 * (`CoordinatorGossip`), `GET /agents` shows its view of the others, and closing the server makes it leave.
 */
export async function serveCoordinatorHttp(
  node: CoordinatorNode,
  catalog: Catalog,
  at: Address,
  queries: QueryService | null = null,
  gossip?: CoordinatorGossip,
): Promise<Server> {
  const metrics = raftMetrics(() => node.status(), 'coordinator');
  if (queries !== null)
    addQueryMetrics(metrics, () => ({
      failover: queries.failover.stats,
      standby: queries.standby.stats,
      mirror: queries.mirror.stats,
      returns: queries.returns.stats,
    }));
  const guard = guardFor(node.keyring);
  const server = await serveJson(at, (req) => route(node, catalog, metrics, queries, gossip, guard, req));
  if (queries !== null) {
    queries.start();
    server.on('close', () => queries.stop());
  }
  // Leaving tells the others at once, instead of after their failure detectors' timeouts.
  if (gossip !== undefined) server.on('close', () => void gossip.leave());
  return server;
}
