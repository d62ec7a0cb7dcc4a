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

describe("a hosting coordinator's replies", () => {
  it('a part: exactly one answer per asked feature, for this query', () => {
    expect(checkPartReply(200, { answers: [answer('b'), answer('a')] }, 7, ['a', 'b'])).toEqual({
      answers: [answer('b'), answer('a')],
    });
    const bad = { reason: BAD_REPLY };
    expect(checkPartReply(200, { answers: [answer('a')] }, 7, ['a', 'b'])).toEqual(bad);
    expect(checkPartReply(200, { answers: [answer('a'), answer('c')] }, 7, ['a', 'b'])).toEqual(bad);
    expect(checkPartReply(200, { answers: [answer('a', 8)] }, 7, ['a'])).toEqual(bad);
    expect(checkPartReply(200, { answers: [{ ...answer('a'), confidence: 2 }] }, 7, ['a'])).toEqual(bad);
    expect(checkPartReply(200, { answers: [{ ...answer('a'), extra: 1 }] }, 7, ['a'])).toEqual(bad);
    expect(checkPartReply(200, { reason: 'NOT_HOSTED' }, 7, ['a'])).toEqual(bad);
    expect(checkPartReply(200, null, 7, ['a'])).toEqual(bad);
  });

  it("a refused part keeps the hosting coordinator's reason, or its status", () => {
    expect(checkPartReply(409, { reason: 'NOT_HOSTED' }, 7, ['a'])).toEqual({ reason: 'NOT_HOSTED' });
    expect(checkPartReply(503, { code: 'E_NOT_LEADER', message: 'x' }, 7, ['a'])).toEqual({
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
