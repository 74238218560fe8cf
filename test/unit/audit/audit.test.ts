import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  actorOf,
  batchDigest,
  canonicalJson,
  chainEvent,
  chainOf,
  EMPTY_CHAIN,
  GENESIS_HASH,
  hashOf,
  outcomeOf,
  PLATFORM_CHAIN,
  printable,
  verifyChain,
  type AuditDraft,
  type AuditEvent,
} from '../../../lambdas/core/audit';
import { buildChain, draft, headOf, link, OTHER_TENANT, TENANT } from './fakes';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** Rewrites an event's content and recomputes its own hash, as a careful forger would. */
function rehashed(event: AuditEvent, change: Partial<AuditEvent>): AuditEvent {
  const { hash: _old, ...rest } = { ...event, ...change };
  return { ...rest, hash: hashOf(rest) };
}

describe('canonicalJson', () => {
  it('sorts object keys at every depth and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: 'x' } })).toBe('{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}');
  });

  it('gives the same bytes whatever order the keys were inserted in', () => {
    const one = { id: 'e1', seq: 1, details: { version: 2, error: 'x' }, actor: { type: 'client', id: 'c' } };
    const two = { actor: { id: 'c', type: 'client' }, details: { error: 'x', version: 2 }, seq: 1, id: 'e1' };
    expect(canonicalJson(two)).toBe(canonicalJson(one));
    expect(canonicalJson(one)).toBe('{"actor":{"id":"c","type":"client"},"details":{"error":"x","version":2},"id":"e1","seq":1}');
  });

  it('drops properties whose value is undefined, at every depth, but keeps null', () => {
    expect(canonicalJson({ a: 1, b: undefined, c: { d: undefined, e: null } })).toBe('{"a":1,"c":{"e":null}}');
  });

  it('does not reorder arrays', () => {
    expect(canonicalJson([2, 1, 'b', 'a'])).toBe('[2,1,"b","a"]');
    expect(canonicalJson([2, 1])).not.toBe(canonicalJson([1, 2]));
  });

  it('encodes primitives as JSON does, escapes included', () => {
    expect(canonicalJson(null)).toBe('null');
    expect(canonicalJson(42)).toBe('42');
    expect(canonicalJson(true)).toBe('true');
    expect(canonicalJson('a"b\n')).toBe('"a\\"b\\n"');
    expect(canonicalJson({ 'k"ey': 'v' })).toBe('{"k\\"ey":"v"}');
  });

  it('is valid JSON that parses back to the same value (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(JSON.parse(canonicalJson(value))).toEqual(JSON.parse(JSON.stringify(value)));
      }),
    );
  });
});

describe('chainEvent and hashOf', () => {
  it('links the first event to the genesis: seq 1, prevHash of 64 zeros', () => {
    const d = draft();
    const event = chainEvent(EMPTY_CHAIN, d);
    expect(GENESIS_HASH).toBe('0'.repeat(64));
    expect(event.seq).toBe(1);
    expect(event.prevHash).toBe(GENESIS_HASH);
    expect(event.hash).toMatch(/^[0-9a-f]{64}$/);
    const { hash, seq, prevHash, ...rest } = event;
    expect(rest).toEqual(d);
  });

  it('links each event to its predecessor’s hash and the next seq', () => {
    const first = chainEvent(EMPTY_CHAIN, draft({ n: 1 }));
    const second = chainEvent(headOf(first), draft({ n: 2 }));
    expect(second.seq).toBe(2);
    expect(second.prevHash).toBe(first.hash);
    expect(second.hash).not.toBe(first.hash);
  });

  it('hashes SHA-256 over the canonical JSON of every field, prevHash included', () => {
    const event = chainEvent({ seq: 41, hash: 'ab'.repeat(32) }, draft({ n: 42 }));
    const { hash, ...linked } = event;
    expect(hash).toBe(sha256(canonicalJson(linked)));
    expect(hashOf(linked)).toBe(hash);
    expect(canonicalJson(linked)).toContain(`"prevHash":"${'ab'.repeat(32)}"`);
    expect(canonicalJson(linked)).toContain('"seq":42');
  });

  it('hashes the exact canonical bytes of a small event', () => {
    const minimal = {
      id: 'e',
      chain: 'c',
      time: 't',
      tenantId: null,
      actor: { type: 'anonymous', id: null, authMethod: null },
      action: 'a',
      resource: null,
      outcome: 'success',
      status: 200,
      sourceIp: 'i',
      userAgent: 'u',
      correlationId: 'k',
      region: 'r',
      details: {},
      seq: 1,
      prevHash: GENESIS_HASH,
    } as const;
    const bytes =
      '{"action":"a","actor":{"authMethod":null,"id":null,"type":"anonymous"},"chain":"c","correlationId":"k","details":{},' +
      `"id":"e","outcome":"success","prevHash":"${GENESIS_HASH}","region":"r","resource":null,"seq":1,"sourceIp":"i",` +
      '"status":200,"tenantId":null,"time":"t","userAgent":"u"}';
    expect(canonicalJson(minimal)).toBe(bytes);
    expect(hashOf(minimal)).toBe(sha256(bytes));
  });

  it('commits to every field: changing any one of them changes the hash', () => {
    const base = draft({ n: 7 });
    const baseline = chainEvent(EMPTY_CHAIN, base).hash;
    const changes: Partial<AuditDraft>[] = [
      { id: 'other' },
      { chain: OTHER_TENANT },
      { time: '2026-11-24T12:00:08.000Z' },
      { tenantId: null },
      { actor: { ...base.actor, id: 'someone-else' } },
      { action: 'secret.write' },
      { resource: 'prod/db/other' },
      { outcome: 'denied' },
      { status: 201 },
      { sourceIp: '198.51.100.1' },
      { userAgent: 'curl/8.6.0' },
      { correlationId: 'corr-x' },
      { region: 'us-east-1' },
      { details: { version: 8 } },
    ];
    for (const change of changes) expect(chainEvent(EMPTY_CHAIN, { ...base, ...change }).hash, JSON.stringify(change)).not.toBe(baseline);
    expect(chainEvent({ seq: 1, hash: GENESIS_HASH }, base).hash).not.toBe(baseline);
    expect(chainEvent({ seq: 0, hash: '1'.repeat(64) }, base).hash).not.toBe(baseline);
  });
});

describe('verifyChain', () => {
  it('finds nothing wrong with an intact chain and reports its range and head', () => {
    const events = buildChain(5);
    expect(verifyChain(TENANT, events)).toEqual({
      chain: TENANT,
      events: 5,
      firstSeq: 1,
      lastSeq: 5,
      lastHash: events[4]!.hash,
      problems: [],
    });
  });

  it('reports an empty chain with no range', () => {
    expect(verifyChain(TENANT, [])).toEqual({ chain: TENANT, events: 0, firstSeq: null, lastSeq: null, lastHash: null, problems: [] });
  });

  it('reports a deleted event as missing, at the seq of the gap', () => {
    const events = buildChain(5);
    const withoutThird = events.filter((e) => e.seq !== 3);
    expect(verifyChain(TENANT, withoutThird).problems).toEqual([{ kind: 'missing', seq: 3, detail: 'events 3–3 are missing' }]);
  });

  it('names the whole range when several consecutive events are deleted', () => {
    const events = buildChain(6);
    expect(verifyChain(TENANT, [events[0]!, events[4]!, events[5]!]).problems).toEqual([
      { kind: 'missing', seq: 2, detail: 'events 2–4 are missing' },
    ]);
  });

  it('reports a deleted first event as missing when verifying from the genesis', () => {
    const events = buildChain(3);
    expect(verifyChain(TENANT, events.slice(1)).problems).toEqual([{ kind: 'missing', seq: 1, detail: 'events 1–1 are missing' }]);
  });

  it('reports an event whose field was changed as altered', () => {
    const events = buildChain(5);
    const tampered = events.map((e) => (e.seq === 3 ? { ...e, resource: 'prod/db/innocent' } : e));
    expect(verifyChain(TENANT, tampered).problems).toEqual([
      { kind: 'altered', seq: 3, detail: `event ${events[2]!.id}: content does not match its hash` },
    ]);
  });

  it('reports an event changed and rehashed as a broken link at its successor', () => {
    const events = buildChain(5);
    const tampered = events.map((e) => (e.seq === 3 ? rehashed(e, { outcome: 'success', status: 200, action: 'secret.list' }) : e));
    expect(verifyChain(TENANT, tampered).problems).toEqual([
      { kind: 'broken-link', seq: 4, detail: `event ${events[3]!.id} does not link to seq 3` },
    ]);
  });

  it('reports two swapped events as a gap followed by a step backwards', () => {
    const events = buildChain(4);
    const swapped = [events[0]!, events[2]!, events[1]!, events[3]!];
    expect(verifyChain(TENANT, swapped).problems).toEqual([
      { kind: 'missing', seq: 2, detail: 'events 2–2 are missing' },
      { kind: 'reordered', seq: 2, detail: 'seq 2 follows seq 3' },
    ]);
  });

  it('reports a second event claiming an existing seq as duplicate-seq', () => {
    const events = buildChain(3);
    const fork = chainEvent(headOf(events[1]!), draft({ n: 99, id: 'forked' }));
    expect(fork.seq).toBe(3);
    expect(verifyChain(TENANT, [...events, fork]).problems).toEqual([
      { kind: 'duplicate-seq', seq: 3, detail: 'two different events claim seq 3' },
    ]);
  });

  it('reports an event of another chain as foreign, even when it links correctly', () => {
    const events = buildChain(3);
    const intruder = chainEvent(headOf(events[2]!), draft({ n: 4, id: 'intruder', chain: OTHER_TENANT, tenantId: OTHER_TENANT }));
    expect(verifyChain(TENANT, [...events, intruder]).problems).toEqual([
      { kind: 'foreign', seq: 4, detail: `event intruder belongs to chain ${OTHER_TENANT}` },
    ]);
  });

  it('reports another chain’s events copied in as foreign and unlinked', () => {
    const ours = buildChain(2);
    const theirs = buildChain(3, OTHER_TENANT);
    const kinds = verifyChain(TENANT, [...ours, theirs[2]!]).problems.map((p) => [p.kind, p.seq]);
    expect(kinds).toEqual([
      ['foreign', 3],
      ['broken-link', 3],
    ]);
  });

  describe('with an anchor (a window that does not start at the genesis)', () => {
    const events = buildChain(6);
    const window = events.slice(3);

    it('verifies the window against the head before it', () => {
      const report = verifyChain(TENANT, window, headOf(events[2]!));
      expect(report.problems).toEqual([]);
      expect([report.events, report.firstSeq, report.lastSeq, report.lastHash]).toEqual([3, 4, 6, events[5]!.hash]);
    });

    it('without the anchor, the window looks like a chain missing its start', () => {
      expect(verifyChain(TENANT, window).problems).toEqual([{ kind: 'missing', seq: 1, detail: 'events 1–3 are missing' }]);
    });

    it('reports a window that does not link to the anchor’s hash', () => {
      expect(verifyChain(TENANT, window, { seq: 3, hash: events[1]!.hash }).problems).toEqual([
        { kind: 'broken-link', seq: 4, detail: `event ${events[3]!.id} does not link to seq 3` },
      ]);
    });

    it('reports an event at or before the anchor as reordered', () => {
      expect(verifyChain(TENANT, window, headOf(events[3]!)).problems[0]).toEqual({ kind: 'reordered', seq: 4, detail: 'seq 4 follows seq 4' });
    });
  });

  it('cannot see a truncated tail on its own: the report’s lastSeq is what tells', () => {
    const events = buildChain(5);
    const report = verifyChain(TENANT, events.slice(0, 4));
    expect(report.problems).toEqual([]);
    expect(report.lastSeq).toBe(4);
    expect(report.lastHash).toBe(events[3]!.hash);
  });

  describe('properties', () => {
    const actor = fc.oneof(
      fc.constant({ type: 'anonymous' as const, id: null, authMethod: null }),
      fc.record({ type: fc.constantFrom('client' as const, 'user' as const, 'platform' as const), id: fc.string(), authMethod: fc.constant('client_credentials') }),
    );
    const draftArb = (chain: string) =>
      fc.record({
        chain: fc.constant(chain),
        time: fc.date({ min: new Date('2020-01-01T00:00:00Z'), max: new Date('2030-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString()),
        tenantId: fc.constant(chain),
        actor,
        action: fc.constantFrom('secret.read', 'secret.write', 'auth.verify', 'audit.query'),
        resource: fc.option(fc.string({ maxLength: 40 }), { nil: null }),
        outcome: fc.constantFrom('success' as const, 'denied' as const, 'failure' as const, 'error' as const),
        status: fc.integer({ min: 100, max: 599 }),
        sourceIp: fc.ipV4(),
        userAgent: fc.string({ maxLength: 20 }),
        correlationId: fc.uuid(),
        region: fc.constantFrom('eu-west-1', 'eu-central-1'),
        details: fc.dictionary(fc.constantFrom('version', 'error', 'clientId', 'count'), fc.oneof(fc.string(), fc.integer(), fc.boolean())),
      });
    const drafts = fc
      .array(draftArb(TENANT), { minLength: 1, maxLength: 20 })
      .map((list): AuditDraft[] => list.map((d, i) => ({ ...d, id: `evt-${i + 1}` })));
    const chainWithIndex = drafts.chain((list) => fc.tuple(fc.constant(link(list)), fc.nat({ max: list.length - 1 })));

    it('an untouched chain of any drafts has no problem', () => {
      fc.assert(
        fc.property(drafts, (list) => {
          const events = link(list);
          const report = verifyChain(TENANT, events);
          expect(report.problems).toEqual([]);
          expect(report.lastSeq).toBe(list.length);
        }),
      );
    });

    it('removing any event is seen: a problem, or (the last one) a shorter head', () => {
      fc.assert(
        fc.property(chainWithIndex, ([events, i]) => {
          const report = verifyChain(TENANT, events.filter((_, j) => j !== i));
          if (i < events.length - 1) expect(report.problems.length).toBeGreaterThan(0);
          else expect(report.lastSeq ?? 0).toBe(events.length - 1);
        }),
      );
    });

    it('removing any event but the last always yields a problem', () => {
      fc.assert(
        fc.property(
          chainWithIndex.filter(([events, i]) => i < events.length - 1),
          ([events, i]) => {
            expect(verifyChain(TENANT, events.filter((_, j) => j !== i)).problems.length).toBeGreaterThan(0);
          },
        ),
      );
    });

    const mutations: readonly ((e: AuditEvent) => AuditEvent)[] = [
      (e) => ({ ...e, resource: `${e.resource ?? ''}x` }),
      (e) => ({ ...e, status: e.status + 1 }),
      (e) => ({ ...e, outcome: e.outcome === 'success' ? 'error' : 'success' }),
      (e) => ({ ...e, details: { ...e.details, injected: true } }),
      (e) => ({ ...e, actor: { ...e.actor, id: `${e.actor.id ?? ''}!` } }),
      (e) => ({ ...e, time: '1999-01-01T00:00:00.000Z' }),
      (e) => ({ ...e, seq: e.seq + 1000 }),
      (e) => ({ ...e, prevHash: 'f'.repeat(64) }),
      (e) => ({ ...e, hash: (e.hash.startsWith('0') ? '1' : '0') + e.hash.slice(1) }),
    ];

    it('changing any field of any event always yields a problem (altered)', () => {
      fc.assert(
        fc.property(chainWithIndex, fc.nat({ max: mutations.length - 1 }), ([events, i], m) => {
          const tampered = events.map((e, j) => (j === i ? mutations[m]!(e) : e));
          const problems = verifyChain(TENANT, tampered).problems;
          expect(problems.length).toBeGreaterThan(0);
          expect(problems.map((p) => p.kind)).toContain('altered');
        }),
      );
    });

    it('changing and rehashing any event but the last always yields a problem', () => {
      fc.assert(
        fc.property(
          chainWithIndex.filter(([events, i]) => i < events.length - 1),
          ([events, i]) => {
            const tampered = events.map((e, j) => (j === i ? rehashed(e, { resource: `${e.resource ?? ''}x` }) : e));
            expect(verifyChain(TENANT, tampered).problems.map((p) => p.kind)).toContain('broken-link');
          },
        ),
      );
    });

    it('swapping any two events always yields a problem', () => {
      const swappable = drafts
        .filter((list) => list.length >= 2)
        .chain((list) =>
          fc.tuple(
            fc.constant(link(list)),
            fc.uniqueArray(fc.nat({ max: list.length - 1 }), { minLength: 2, maxLength: 2 }),
          ),
        );
      fc.assert(
        fc.property(swappable, ([events, [i, j]]) => {
          const swapped = [...events];
          swapped[i!] = events[j!]!;
          swapped[j!] = events[i!]!;
          expect(verifyChain(TENANT, swapped).problems.length).toBeGreaterThan(0);
        }),
      );
    });
  });
});

describe('outcomeOf', () => {
  it.each([
    [200, 'success'],
    [201, 'success'],
    [204, 'success'],
    [304, 'success'],
    [399, 'success'],
    [400, 'failure'],
    [401, 'denied'],
    [403, 'denied'],
    [404, 'failure'],
    [405, 'failure'],
    [409, 'failure'],
    [412, 'failure'],
    [413, 'failure'],
    [499, 'failure'],
    [500, 'error'],
    [503, 'error'],
    [599, 'error'],
  ] as const)('maps %i to %s', (status, outcome) => {
    expect(outcomeOf(status)).toBe(outcome);
  });
});

describe('actorOf', () => {
  it('is anonymous, with null id and method, without a principal', () => {
    expect(actorOf(undefined)).toEqual({ type: 'anonymous', id: null, authMethod: null });
  });

  it('names a tenant client or user by id, proven by client credentials', () => {
    expect(actorOf({ kind: 'tenant', tenantId: TENANT, type: 'client', id: `${TENANT}.cli_1`, roles: ['viewer'] })).toEqual({
      type: 'client',
      id: `${TENANT}.cli_1`,
      authMethod: 'client_credentials',
    });
    expect(actorOf({ kind: 'tenant', tenantId: TENANT, type: 'user', id: 'usr_9', roles: ['owner'] })).toEqual({
      type: 'user',
      id: 'usr_9',
      authMethod: 'client_credentials',
    });
  });

  it('names the platform admin as a platform actor', () => {
    expect(actorOf({ kind: 'platform', type: 'platform', id: 'admin' })).toEqual({ type: 'platform', id: 'admin', authMethod: 'client_credentials' });
  });
});

describe('chainOf and printable', () => {
  it('puts a tenant’s events on its own chain and the rest on the platform chain', () => {
    expect(chainOf(TENANT)).toBe(TENANT);
    expect(chainOf(null)).toBe(PLATFORM_CHAIN);
    expect(PLATFORM_CHAIN).toBe('platform');
  });

  it('drops C0, DEL and C1 control characters, then caps at 512 characters', () => {
    expect(printable('a\u0000b\tc\nd\u001be\u007ff\u0085g\u009fh')).toBe('abcdefgh');
    expect(printable('x'.repeat(600))).toBe('x'.repeat(512));
    expect(printable(`${'\n'.repeat(100)}${'y'.repeat(600)}`)).toBe('y'.repeat(512));
  });
});

describe('batchDigest', () => {
  const events = buildChain(3);

  it('is SHA-256 over a domain tag, the chain, then seq:hash of every event in order', () => {
    const expected = sha256(`coffer-audit-batch-v1\n${TENANT}\n${events.map((e) => `${e.seq}:${e.hash}\n`).join('')}`);
    expect(batchDigest(TENANT, events)).toBe(expected);
  });

  it('covers an empty batch as the tag and chain alone', () => {
    expect(batchDigest(TENANT, [])).toBe(sha256(`coffer-audit-batch-v1\n${TENANT}\n`));
  });

  it('is order sensitive', () => {
    expect(batchDigest(TENANT, [...events].reverse())).not.toBe(batchDigest(TENANT, events));
    expect(batchDigest(TENANT, [events[1]!, events[0]!, events[2]!])).not.toBe(batchDigest(TENANT, events));
  });

  it('binds the chain and each event', () => {
    expect(batchDigest(OTHER_TENANT, events)).not.toBe(batchDigest(TENANT, events));
    expect(batchDigest(TENANT, events.slice(0, 2))).not.toBe(batchDigest(TENANT, events));
    const forged = [events[0]!, rehashed(events[1]!, { resource: 'x' }), events[2]!];
    expect(batchDigest(TENANT, forged)).not.toBe(batchDigest(TENANT, events));
  });
});
