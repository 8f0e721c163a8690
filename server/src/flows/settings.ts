import { AppError } from '../common/errors/app-error';
import { ExpressionError, matchesPattern } from './definition/expressions';

export interface InputSpec {
  type: 'string' | 'number' | 'integer' | 'boolean' | 'array';
  title?: string;
  default?: unknown;
  required?: boolean;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  pattern?: string;
  items?: { type?: string };
  /** A dynamic dropdown: the binding whose connection lists the choices, and its option source. */
  options?: { connector: string; source: string };
}

/**
 * Checks an end user's settings against a flow's inputs and applies defaults. Problems are
 * reported together, each with the path `settings.<input>`. Patterns are the template author's
 * regular expressions: they are tested in the expression sandbox (bounded in time and memory).
 */
export async function resolveSettings(inputs: Record<string, InputSpec>, given: Record<string, unknown>): Promise<Record<string, unknown>> {
  const problems: Array<{ path: string; message: string }> = [];
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(given)) {
    if (!(name in inputs)) problems.push({ path: `settings.${name}`, message: 'is not an input of this flow' });
  }
  for (const [name, spec] of Object.entries(inputs)) {
    const path = `settings.${name}`;
    const value = given[name] ?? spec.default;
    if (value === undefined || value === null || value === '') {
      if (spec.required) problems.push({ path, message: `is required (${spec.title ?? name})` });
      continue;
    }
    const typeOk =
      spec.type === 'string'
        ? typeof value === 'string'
        : spec.type === 'number'
          ? typeof value === 'number' && Number.isFinite(value)
          : spec.type === 'integer'
            ? Number.isInteger(value)
            : spec.type === 'boolean'
              ? typeof value === 'boolean'
              : Array.isArray(value) && value.every((v) => typeof v === (spec.items?.type === 'number' ? 'number' : 'string'));
    if (!typeOk) {
      problems.push({ path, message: `must be ${spec.type === 'array' ? 'a list' : `a ${spec.type}`}` });
      continue;
    }
    if (spec.enum && !(Array.isArray(value) ? value : [value]).every((v) => spec.enum!.includes(v))) {
      problems.push({ path, message: `must be one of ${spec.enum.map((e) => JSON.stringify(e)).join(', ')}` });
    }
    if (typeof value === 'number' && spec.minimum !== undefined && value < spec.minimum) problems.push({ path, message: `must be at least ${spec.minimum}` });
    if (typeof value === 'number' && spec.maximum !== undefined && value > spec.maximum) problems.push({ path, message: `must be at most ${spec.maximum}` });
    if (typeof value === 'string' && spec.pattern) {
      const problem = await patternProblem(spec.pattern, value);
      if (problem) problems.push({ path, message: problem });
    }
    out[name] = value;
  }
  if (problems.length) {
    throw new AppError('validation_failed', problems.map((p) => `${p.path}: ${p.message}`).join('; '), { errors: problems });
  }
  return out;
}

async function patternProblem(pattern: string, value: string): Promise<string | undefined> {
  try {
    return (await matchesPattern(pattern, value)) ? undefined : `must match ${pattern}`;
  } catch (error) {
    if (error instanceof ExpressionError && error.code) return `must match ${pattern} (checking it was stopped: ${error.message})`;
    throw error;
  }
}
