import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { EVENT_SCHEMAS } from '../events/schema.js';

/**
 * Validators for ingested EVE records: one per event_type, compiled once from the JSON Schemas
 * generated from src/events/types.ts (scripts/gen-event-docs.ts), so the collector accepts
 * exactly what the docs describe. Ingest runs ~50,000 records a second through these, which is
 * why they are compiled at start and never per request.
 */
export interface RecordValidators {
  /** The event types there is a schema for, sorted. */
  readonly types: readonly string[];
  /**
   * Checks one parsed record of the given type: null when it conforms, `unknown` when the type
   * has no schema, else the first violation ("field: message").
   */
  check(eventType: string, record: unknown): string | null | 'unknown';
}

/** Compiles the validators (a few hundred milliseconds; do it once per process). */
export function compileValidators(): RecordValidators {
  // strict: false because the generated schemas carry `title` and type lists Ajv's strict mode frowns on;
  // allErrors: false because the first violation is all a refusal names, and it is faster.
  const ajv = new Ajv2020({ allErrors: false, strict: false });
  const byType = new Map<string, ValidateFunction>();
  for (const [type, schema] of Object.entries(EVENT_SCHEMAS)) byType.set(type, ajv.compile(schema));
  return {
    types: [...byType.keys()].sort(),
    check(eventType, record) {
      const validate = byType.get(eventType);
      if (validate === undefined) return 'unknown';
      if (validate(record)) return null;
      return describe(validate.errors?.[0]);
    },
  };
}

/** "alert.signature_id: must be number" from Ajv's first error. */
function describe(e: ErrorObject | undefined): string {
  if (e === undefined) return 'does not match its schema';
  const path = e.instancePath === '' ? '' : e.instancePath.slice(1).replace(/\//g, '.');
  const missing = e.keyword === 'required' ? String((e.params as { missingProperty?: unknown }).missingProperty) : undefined;
  if (missing !== undefined) return `${path === '' ? '' : `${path}.`}${missing}: is required`;
  const allowed = e.keyword === 'enum' ? ` (${((e.params as { allowedValues?: unknown[] }).allowedValues ?? []).map((v) => JSON.stringify(v)).join(', ')})` : '';
  return `${path === '' ? '(record)' : path}: ${e.message ?? 'is invalid'}${allowed}`;
}
