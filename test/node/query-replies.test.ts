import { describe, expect, it } from 'vitest';
import { BAD_REPLY, checkFeedbackReply, checkPartReply } from '../../src/node/query-replies.js';

const answer = (feature: string, queryId = 7) => ({
  queryId,
  feature,
  agent: `agent-${feature}`,
  action: 'DirectAnswer',
  confidence: 0.45,
  raftIndex: 3,
  content: {
    feature,
    name: 'n',
    category: 'c',
    activationOrder: [],
    conflicts: [],
    parameters: [{ parameter: 'p', value: 1 }],
    safeZones: [],
    active: false,
  },
});

const part = (features: string[], barrier = 3) => ({ queryId: 7, features, barrier });

describe("a hosting coordinator's replies", () => {
  it('a part: exactly one answer per asked feature, for this query', () => {
    expect(checkPartReply(200, { answers: [answer('b'), answer('a')] }, part(['a', 'b']))).toEqual({
      answers: [answer('b'), answer('a')],
    });
    const bad = { reason: BAD_REPLY };
    expect(checkPartReply(200, { answers: [answer('a')] }, part(['a', 'b']))).toEqual(bad);
    expect(checkPartReply(200, { answers: [answer('a'), answer('c')] }, part(['a', 'b']))).toEqual(bad);
    expect(checkPartReply(200, { answers: [answer('a', 8)] }, part(['a']))).toEqual(bad);
    expect(checkPartReply(200, { answers: [{ ...answer('a'), confidence: 2 }] }, part(['a']))).toEqual(bad);
    expect(checkPartReply(200, { answers: [{ ...answer('a'), extra: 1 }] }, part(['a']))).toEqual(bad);
    expect(checkPartReply(200, { reason: 'NOT_HOSTED' }, part(['a']))).toEqual(bad);
    expect(checkPartReply(200, null, part(['a']))).toEqual(bad);
    // Answered below the query's barrier, or by an agent that is not the feature's own (hosted or standby).
    expect(checkPartReply(200, { answers: [answer('a')] }, part(['a'], 4))).toEqual(bad);
    expect(checkPartReply(200, { answers: [{ ...answer('a'), agent: 'agent-b' }] }, part(['a']))).toEqual(
      bad,
    );
    const standby = { ...answer('a'), agent: 'standby-agent-a' };
    expect(checkPartReply(200, { answers: [standby] }, part(['a']))).toEqual({ answers: [standby] });
  });

  it("a refused part keeps the hosting coordinator's reason, or its status", () => {
    expect(checkPartReply(409, { reason: 'NOT_HOSTED' }, part(['a']))).toEqual({ reason: 'NOT_HOSTED' });
    expect(checkPartReply(503, { code: 'E_NOT_LEADER', message: 'x' }, part(['a']))).toEqual({
      reason: 'COORDINATOR_503',
    });
  });

  it('a feedback: accepted only on 200, refusals keep their reason', () => {
    expect(checkFeedbackReply(200, { accepted: true })).toEqual({ accepted: true });
    expect(checkFeedbackReply(409, { accepted: false, reason: 'UNKNOWN_ANSWER' })).toEqual({
      accepted: false,
      reason: 'UNKNOWN_ANSWER',
    });
    expect(checkFeedbackReply(409, { accepted: true })).toEqual({ accepted: false, reason: BAD_REPLY });
    expect(checkFeedbackReply(200, { accepted: 'yes' })).toEqual({ accepted: false, reason: BAD_REPLY });
    expect(checkFeedbackReply(400, { code: 'E_BAD_REQUEST' })).toEqual({
      accepted: false,
      reason: 'COORDINATOR_400',
    });
  });
});
