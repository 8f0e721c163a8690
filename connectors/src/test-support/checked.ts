import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { expect } from 'vitest';
import { ActionContext, HttpError } from '../index';
import type { Connected } from './helpers';

const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true });
addFormats(ajv);
ajv.addKeyword({ keyword: 'x-options', schemaType: 'string' });

/** The strict validator connector specs check schemas with (knows `x-options`). */
export const schemaValidator = ajv;

/** Runs an action after checking its input against the input schema, and checks the output. */
export async function run(c: Connected, action: string, input: Record<string, unknown>, ctx: ActionContext = c.ctx): Promise<any> {
  const def = c.connector.actions[action]!;
  const validIn = ajv.compile(def.input);
  expect(validIn(input), JSON.stringify(validIn.errors)).toBe(true);
  const out = await def.run(ctx, input);
  const validOut = ajv.compile(def.output);
  expect(validOut(out), JSON.stringify(validOut.errors)).toBe(true);
  return out;
}

/** Every page of an option source (at most 50). */
export async function allOptions(c: Connected, source: string, search?: string): Promise<{ pages: number; values: string[]; labels: string[] }> {
  const values: string[] = [];
  const labels: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await c.connector.options![source]!.run(c.ctx, { search, cursor });
    pages++;
    values.push(...page.options.map((o) => o.value));
    labels.push(...page.options.map((o) => o.label));
    cursor = page.nextCursor;
  } while (cursor && pages < 50);
  return { pages, values, labels };
}

/** The HttpError a promise rejects with (failing the test when it resolves or rejects otherwise). */
export async function failure(promise: Promise<unknown>): Promise<HttpError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(HttpError);
  return error as HttpError;
}
