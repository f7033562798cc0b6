import { API, AUTH_SCHEME, HEADER, MAX_SKEW_S } from '../api/contract.js';
import { QUERY_ROUTES } from './query.js';

/**
 * The collector's OpenAPI 3.1 document, served at GET /api/docs. Written by hand beside the
 * routes; test/collector/server.test.ts checks that every route the server registers is here.
 */

const error = { $ref: '#/components/schemas/ApiError' };
const refusal = (description: string) => ({ description, content: { 'application/json': { schema: error } } });
const json = (schema: unknown, description = 'OK') => ({ description, content: { 'application/json': { schema } } });
const param = (name: string, description: string, schema: unknown, where: 'query' | 'path' = 'query') => ({ name, in: where, required: where === 'path', description, schema });
const local = { '403': refusal('`forbidden`: not a loopback client (accounts come with the dashboard).') };
const dayParams = [
  param('date', 'UTC day, YYYY-MM-DD (default: today).', { type: 'string', format: 'date' }),
  param('limit', 'Rows (default 10, at most 1000).', { type: 'integer', minimum: 1, maximum: 1000 }),
];
const bad = { '400': refusal('`bad_request`: a parameter is wrong; the reason names it.') };
const time = { description: 'ISO 8601, or milliseconds since 1970.', oneOf: [{ type: 'string' }, { type: 'integer' }] };
const path = (p: string): string => p.replace(/:(\w+)/g, '{$1}');

/** The document (a plain object, serialised once). */
export const OPENAPI = {
  openapi: '3.1.0',
  info: {
    title: 'Outpost collector API',
    version: '1',
    description:
      'Sensors enrol with a token and ship signed gzip NDJSON batches of EVE records; loopback clients query what was stored. See docs/network.md. ' +
      `Signed requests carry \`Authorization: ${AUTH_SCHEME} sensor=ID, ts=UNIX_SECONDS, nonce=HEX, sig=HEX\`: HMAC-SHA256 with the sensor's secret over ` +
      `METHOD, path, ts, nonce and the SHA-256 of the body as sent, newline-separated; ts within ${MAX_SKEW_S} s; a nonce is accepted once.`,
  },
  components: {
    securitySchemes: { sensorHmac: { type: 'apiKey', in: 'header', name: 'Authorization', description: `${AUTH_SCHEME} (see info.description).` } },
    schemas: {
      ApiError: {
        type: 'object',
        required: ['error', 'reason'],
        properties: { error: { type: 'string', description: 'A short code.' }, reason: { type: 'string', description: 'What was wrong, for a person.' } },
      },
      IngestReply: {
        type: 'object',
        required: ['acked', 'stored', 'duplicates'],
        properties: {
          acked: { type: 'integer', description: 'Highest seq up to which every event of the sensor is stored (or declared lost).' },
          stored: { type: 'integer', description: 'Events of this batch newly stored.' },
          duplicates: { type: 'integer', description: 'Events of this batch already stored.' },
        },
      },
      EveRecord: { type: 'object', description: 'An EVE record (docs/events.md), with sensor_id and seq.', additionalProperties: true },
      RollupFigures: {
        type: 'object',
        properties: { records: { type: 'integer' }, sources: { type: 'integer', description: 'Distinct source addresses.' }, targets: { type: 'integer', description: 'Distinct destination addresses.' } },
      },
    },
  },
  paths: {
    [API.enroll]: {
      post: {
        summary: 'Enrol a sensor with a token (the one request not signed; trust on first use of the CA).',
        requestBody: {
          required: true,
          content: { 'application/json': { schema: { type: 'object', required: ['token'], properties: { token: { type: 'string' }, name: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$' } } } } },
        },
        responses: {
          '200': json({ type: 'object', required: ['sensor_id', 'secret', 'ca'], properties: { sensor_id: { type: 'string' }, secret: { type: 'string' }, ca: { type: 'string', description: 'CA certificate (PEM) to pin.' } } }),
          '400': refusal('`malformed`: not a JSON object with a token.'),
          '403': refusal('`bad_token`: unknown, expired or used up.'),
        },
      },
    },
    [API.events]: {
      post: {
        summary: 'Ship a batch of EVE records (gzip NDJSON, signed). All or nothing: a refused batch stores nothing.',
        security: [{ sensorHmac: [] }],
        parameters: [
          { name: 'Content-Encoding', in: 'header', schema: { type: 'string', enum: ['gzip', 'identity'] } },
          { name: HEADER.lostThrough, in: 'header', description: 'Seqs up to this one that the collector lacks were dropped by the sensor (spool budget); the acknowledgement may pass them.', schema: { type: 'integer', minimum: 0 } },
        ],
        requestBody: { required: true, content: { 'application/x-ndjson': { schema: { type: 'string', format: 'binary' } } } },
        responses: {
          '200': json({ $ref: '#/components/schemas/IngestReply' }),
          '400': refusal('`malformed`: not gzip, not UTF-8, or a line that is not a JSON object (the reason names the line).'),
          '401': refusal('`unauthenticated` (no or bad authorization, unknown sensor, bad signature) or `stale` (clock skew).'),
          '403': refusal('`revoked`, or `wrong_sensor`: a record names another sensor_id.'),
          '409': refusal('`replayed`: nonce already used.'),
          '413': refusal('`too_large`: body, inflated body, or event count over the limits.'),
          '415': refusal('`unsupported`: wrong Content-Type or Content-Encoding.'),
          '422': refusal('`invalid`: a record fails its event type schema, has an unknown event_type, or lacks a seq ≥ 1 (the reason names line and field).'),
          '429': { ...refusal('`rate_limited`: over the per-sensor event rate.'), headers: { 'Retry-After': { schema: { type: 'integer' } } } },
        },
      },
      // GET on the same path is the query API's event search (QUERY_ROUTES.events === API.events).
      get: {
        summary: 'Search stored events, newest first, with cursor pagination.',
        parameters: [
          param('from', 'From (inclusive).', time),
          param('to', 'To (exclusive).', time),
          param('type', 'event_type.', { type: 'string' }),
          param('sensor', 'Sensor id.', { type: 'string' }),
          param('ip', 'Source or destination address.', { type: 'string' }),
          param('port', 'Source or destination port.', { type: 'integer', minimum: 0, maximum: 65535 }),
          param('sid', 'Alert signature id.', { type: 'integer' }),
          param('q', 'Case-insensitive text in the record.', { type: 'string' }),
          param('limit', 'Events per page (default 100, at most 1000).', { type: 'integer', minimum: 1, maximum: 1000 }),
          param('cursor', 'The `next` of the previous page.', { type: 'string' }),
        ],
        responses: {
          '200': json({ type: 'object', properties: { events: { type: 'array', items: { $ref: '#/components/schemas/EveRecord' } }, next: { type: ['string', 'null'] } } }),
          ...bad,
          ...local,
        },
      },
    },
    [path(QUERY_ROUTES.topPorts)]: {
      get: {
        summary: "A day's top destination ports by records (ISC topports).",
        parameters: dayParams,
        responses: {
          '200': json({ type: 'array', items: { type: 'object', properties: { rank: { type: 'integer' }, targetport: { type: 'integer' }, records: { type: 'integer' }, targets: { type: 'integer' }, sources: { type: 'integer' } } } }),
          ...bad,
          ...local,
        },
      },
    },
    [path(QUERY_ROUTES.topSources)]: {
      get: {
        summary: "A day's top source addresses by records (ISC topips).",
        parameters: dayParams,
        responses: {
          '200': json({ type: 'array', items: { type: 'object', properties: { rank: { type: 'integer' }, source: { type: 'string' }, reports: { type: 'integer' }, targets: { type: 'integer' } } } }),
          ...bad,
          ...local,
        },
      },
    },
    [path(QUERY_ROUTES.topSignatures)]: {
      get: {
        summary: "A day's top alert signatures by records.",
        parameters: dayParams,
        responses: {
          '200': json({
            type: 'array',
            items: { type: 'object', properties: { rank: { type: 'integer' }, sid: { type: 'integer' }, signature: { type: ['string', 'null'] }, records: { type: 'integer' }, sources: { type: 'integer' }, targets: { type: 'integer' } } },
          }),
          ...bad,
          ...local,
        },
      },
    },
    [path(QUERY_ROUTES.portHistory)]: {
      get: {
        summary: "A destination port's records, sources and targets per bucket, oldest first, zero-filled (ISC porthistory).",
        parameters: [
          param('port', 'Destination port.', { type: 'integer', minimum: 0, maximum: 65535 }, 'path'),
          param('from', 'From (default: 30 days, 7 days or 1 day before `to` for day, hour, minute).', time),
          param('to', 'To, exclusive (default: now).', time),
          param('grain', 'Bucket size (default day; at most 1500 buckets).', { type: 'string', enum: ['minute', 'hour', 'day'] }),
        ],
        responses: {
          '200': json({ type: 'array', items: { type: 'object', properties: { date: { type: 'string', description: 'YYYY-MM-DD at day grain, else the bucket start in ISO 8601.' }, records: { type: 'integer' }, targets: { type: 'integer' }, sources: { type: 'integer' } } } }),
          ...bad,
          ...local,
        },
      },
    },
    [path(QUERY_ROUTES.sensors)]: {
      get: {
        summary: 'Enrolled sensors with last seen, acknowledged seq, version and health from their latest sensor_stats.',
        responses: {
          '200': json({
            type: 'array',
            items: {
              type: 'object',
              properties: {
                id: { type: 'string' },
                name: { type: 'string' },
                enrolled: { type: 'string' },
                revoked: { type: ['string', 'null'] },
                last_seen: { type: ['string', 'null'] },
                acked: { type: 'integer' },
                version: { type: ['string', 'null'] },
                pps: { type: ['number', 'null'] },
                drops: { type: ['integer', 'null'], description: 'Capture plus internal drops.' },
                spool_depth: { type: ['integer', 'null'] },
                spool_dropped: { type: ['integer', 'null'] },
                uptime: { type: ['number', 'null'] },
              },
            },
          }),
          ...local,
        },
      },
    },
    [path(QUERY_ROUTES.verdicts)]: {
      get: {
        summary: 'Hosts with verdict records (bot, worm, infected), newest first.',
        parameters: [param('host', 'One host.', { type: 'string' }), param('limit', 'Hosts (default 100).', { type: 'integer', minimum: 1, maximum: 1000 })],
        responses: {
          '200': json({ type: 'array', items: { type: 'object', properties: { host: { type: 'string' }, verdicts: { type: 'array', items: { $ref: '#/components/schemas/EveRecord' } } } } }),
          ...bad,
          ...local,
        },
      },
    },
    [API.docs]: { get: { summary: 'This document.', responses: { '200': json({ type: 'object' }) } } },
    [API.metrics]: { get: { summary: 'Prometheus metrics (text exposition format).', responses: { '200': { description: 'OK', content: { 'text/plain': { schema: { type: 'string' } } } }, ...local } } },
    [API.healthz]: { get: { summary: 'Liveness: the process answers and its store responds.', responses: { '200': json({ type: 'object', properties: { ok: { type: 'boolean' } } }), '503': refusal('`unavailable`: the store does not answer.') } } },
  },
} as const;
