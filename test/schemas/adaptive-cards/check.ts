/**
 * Checks an Adaptive Card the way a host would take it, offline, three ways:
 * - its declared `version` is one the host renders (Teams, Web Chat: 1.5; Webex: 1.3);
 * - the official JSON schema of that version (vendored here, see README.md) accepts it: required
 *   properties, values, and no property or element the version does not define;
 * - the `adaptivecards` library (the renderer Web Chat uses) parses it for that version without a
 *   warning: an element, action or property newer than the version, an invalid value, a missing id.
 * Problems come back as readable lines naming the place in the card (`body[2].facts[0].value`).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import type * as AdaptiveCards from 'adaptivecards';

const require = createRequire(import.meta.url);
// The package's lib/ is ES modules with extensionless imports, which Node cannot load; dist/ is the
// same library bundled (UMD), and it needs no DOM to parse and validate.
const AC = require('adaptivecards/dist/adaptivecards.js') as typeof AdaptiveCards;
const here = dirname(fileURLToPath(import.meta.url));

export interface CardHost {
  name: string;
  /** The highest card version the host renders. */
  maxVersion: string;
  /** Host-specific root properties the host reads and the schema does not define: the only ones allowed. */
  extensions?: Record<string, (value: unknown) => boolean>;
  /**
   * Buttons the host shows, for the library's check (its default host config says 5, which is no
   * host's). Unset where the host documents none: not checked.
   */
  maxActions?: number;
}

/** Teams reads `msteams.width` ("Full": the card takes the message's width); Web Chat ignores it. */
const msteamsWidth = (value: unknown) => JSON.stringify(value) === '{"width":"Full"}';

/** Teams: six buttons in view, the rest in an overflow menu, 50 at most (botbuilder-dotnet#6085). */
export const TEAMS: CardHost = { name: 'Teams', maxVersion: '1.5', extensions: { msteams: msteamsWidth }, maxActions: 50 };
export const WEB_CHAT: CardHost = { name: 'Web Chat', maxVersion: '1.5', extensions: { msteams: msteamsWidth } };
export const WEBEX: CardHost = { name: 'Webex', maxVersion: '1.3' };

type Json = Record<string, unknown>;

interface VersionSchema {
  key: string;
  card: ValidateFunction;
  elements: Set<string>;
  actions: Set<string>;
  selectActions: Set<string>;
}

const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
// The card schemas are JSON Schema draft-06.
ajv.addMetaSchema(require('ajv/dist/refs/json-schema-draft-06.json') as object);
const schemas = new Map<string, VersionSchema | undefined>();

function schemaFor(version: string): VersionSchema | undefined {
  if (schemas.has(version)) return schemas.get(version);
  let loaded: VersionSchema | undefined;
  try {
    const schema = JSON.parse(readFileSync(join(here, `${version}.0`, 'adaptive-card.json'), 'utf8')) as Json & { definitions: Record<string, Json> };
    const key = `adaptive-card-${version}`;
    delete schema.id; // every version calls itself http://adaptivecards.io/schemas/adaptive-card.json
    ajv.addSchema(schema, key);
    // `ImplementationsOf.Element` is `anyOf: [{ required: ['type'], allOf: [{ $ref: '#/definitions/TextBlock' }] }, …]`.
    const kinds = (name: string) =>
      new Set(((schema.definitions[name]?.anyOf ?? []) as { allOf: { $ref: string }[] }[]).map((r) => r.allOf[0]!.$ref.replace('#/definitions/', '')));
    loaded = {
      key,
      card: ajv.getSchema(key)!,
      elements: kinds('ImplementationsOf.Element'),
      actions: kinds('ImplementationsOf.Action'),
      selectActions: kinds('ImplementationsOf.ISelectAction'),
    };
  } catch {
    loaded = undefined;
  }
  schemas.set(version, loaded);
  return loaded;
}

const versionNumber = (v: string) => v.split('.').reduce((n, part) => n * 1000 + Number(part), 0);

/** `/body/2/facts/0` → `body[2].facts[0]`. */
function place(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .reduce((out, p) => (/^\d+$/.test(p) ? `${out}[${p}]` : out ? `${out}.${p}` : p), '');
}

const at = (base: string, child: string | number) => `${base}/${child}`;

function describeError(e: ErrorObject, base: string): string {
  const where = (extra?: string) => place(base + e.instancePath + (extra ? `/${extra}` : '')) || 'the card';
  const p = e.params as Json;
  switch (e.keyword) {
    case 'required':
      return `${where(String(p.missingProperty))} is required`;
    case 'additionalProperties':
      return `${where(String(p.additionalProperty))} is not a property of this version`;
    case 'enum':
      return `${where()} must be one of: ${(p.allowedValues as unknown[]).join(', ')}`;
    default:
      return `${where()} ${e.message ?? e.keyword}`;
  }
}

const SLOTS = new Set(['body', 'items', 'actions', 'selectAction']);

/** Is the value at `pointer` below `node` (not `node` itself) in a card element or action of its own? */
function insideChild(node: unknown, pointer: string): boolean {
  let value = node;
  let key = '';
  for (const part of pointer.split('/').slice(1)) {
    value = (value as Json | undefined)?.[part];
    const inSlot = SLOTS.has(key) || SLOTS.has(part);
    if (value && typeof value === 'object' && !Array.isArray(value) && (typeof (value as Json).type === 'string' || inSlot)) return true;
    if (!/^\d+$/.test(part)) key = part;
  }
  return false;
}

/** Where a child sits decides what it may be: an action in `actions`, an element in `body`/`items`. */
function slotOf(key: string, schema: VersionSchema): { kinds: Set<string>; what: string } | undefined {
  if (key === 'actions') return { kinds: schema.actions, what: 'an action' };
  if (key === 'selectAction') return { kinds: schema.selectActions, what: 'a select action' };
  if (key === 'body' || key === 'items') return { kinds: schema.elements, what: 'an element' };
  return undefined; // columns, facts, inlines: checked by their parent's definition
}

/**
 * Each element and action against its own definition, so a problem is reported for the element that
 * has it rather than as every alternative of an `anyOf` that did not match.
 */
function schemaProblems(node: Json, pointer: string, definition: string, schema: VersionSchema, out: string[]): void {
  const validate = ajv.getSchema(`${schema.key}#/definitions/${definition}`);
  if (validate && !validate(node)) {
    const errors = (validate.errors ?? []).filter((e) => !insideChild(node, e.instancePath)); // children: checked on their own below
    const enums = new Set(errors.filter((e) => e.keyword === 'enum').map((e) => e.instancePath));
    for (const e of errors) {
      // The alternatives of a value the enum's message already explains: `null`, and the enum again
      // as a case-insensitive pattern.
      if (e.keyword === 'anyOf' || (e.keyword === 'type' && (e.params as Json).type === 'null')) continue;
      if (e.keyword === 'pattern' && enums.has(e.instancePath)) continue;
      out.push(describeError(e, pointer));
    }
  }
  for (const [key, value] of Object.entries(node)) {
    if (key === 'data') continue; // an action's payload, free-form
    const slot = slotOf(key, schema);
    const children = Array.isArray(value) ? value.map((v, i) => [v, at(at(pointer, key), i)] as const) : [[value, at(pointer, key)] as const];
    for (const [child, childPointer] of children) {
      if (!child || typeof child !== 'object' || Array.isArray(child)) continue;
      const type = (child as Json).type;
      if (typeof type !== 'string') {
        if (slot) out.push(`${place(childPointer)} has no type`);
        continue;
      }
      if (slot && !slot.kinds.has(type)) {
        out.push(`${place(childPointer)}: ${type} is not ${slot.what} of Adaptive Cards ${schema.key.replace('adaptive-card-', '')}`);
        continue;
      }
      schemaProblems(child as Json, childPointer, type, schema, out);
    }
  }
}

/** What the `adaptivecards` library reports parsing the card for `version`, and validating it. */
function libraryProblems(card: Json, version: string, host: CardHost): string[] {
  const target = (AC.Versions as unknown as Record<string, AdaptiveCards.Version | undefined>)[`v${version.replace('.', '_')}`];
  if (!target) return [`the adaptivecards library knows no version ${version}`];
  const parsed = new AC.AdaptiveCard();
  parsed.hostConfig = new AC.HostConfig({ actions: { maxActions: host.maxActions ?? Number.MAX_SAFE_INTEGER } });
  const context = new AC.SerializationContext(target);
  parsed.parse(card, context);
  const out: string[] = [];
  for (let i = 0; i < context.eventCount; i++) out.push(`adaptivecards: ${context.getEventAt(i).message}`);
  for (const event of parsed.validateProperties().validationEvents) out.push(`adaptivecards: ${event.message}`);
  return out;
}

/** Everything `host` would object to in `card`; empty when it is valid. */
export function checkCard(card: unknown, host: CardHost): string[] {
  if (!card || typeof card !== 'object' || Array.isArray(card)) return ['the card is not a JSON object'];
  const root = card as Json;
  const problems: string[] = [];
  if (root.type !== 'AdaptiveCard') problems.push(`type must be "AdaptiveCard" (is ${JSON.stringify(root.type)})`);
  const version = typeof root.version === 'string' && /^\d+\.\d+$/.test(root.version) ? root.version : undefined;
  if (!version) return [...problems, `version must be a card version like "1.3" (is ${JSON.stringify(root.version)})`];
  if (versionNumber(version) > versionNumber(host.maxVersion)) problems.push(`version ${version} is newer than ${host.name} renders (${host.maxVersion})`);
  const schema = schemaFor(version);
  if (!schema) return [...problems, `no Adaptive Cards ${version} schema is vendored in test/schemas/adaptive-cards`];

  const plain: Json = { ...root };
  for (const [name, accepts] of Object.entries(host.extensions ?? {})) {
    if (!(name in plain)) continue;
    if (!accepts(plain[name])) problems.push(`${name} is not what ${host.name} reads: ${JSON.stringify(plain[name])}`);
    delete plain[name];
  }
  const found: string[] = [];
  schemaProblems(plain, '', 'AdaptiveCard', schema, found);
  // The whole card against the whole schema too: whatever the walk above cannot place still counts.
  if (!found.length && !schema.card(plain)) found.push(...(schema.card.errors ?? []).slice(0, 5).map((e) => describeError(e, '')));
  problems.push(...found, ...libraryProblems(plain, version, host));
  return [...new Set(problems)];
}
