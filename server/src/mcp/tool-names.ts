import type { ActionDefinition, ConnectorDefinition } from '@switchboard/connectors';
import { createHash } from 'node:crypto';

/** MCP clients accept tool names of these characters; several cap the length at 64. */
export const TOOL_NAME_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
export const MAX_TOOL_NAME = 64;
/** The tool that answers a pending (approval-gated) call's outcome later. */
export const CALL_RESULT_TOOL = 'switchboard_call_result';

/**
 * `<connector>_<action>`: connector keys are kebab-case (never `_`), so the first `_` separates the
 * two. Characters MCP does not allow become `_`; a name over 64 characters is cut and given a
 * short hash of the full one, so it stays unique and stable.
 */
export function toolName(connector: string, action: string): string {
  const full = `${connector}_${action}`.replace(/[^A-Za-z0-9_.-]/g, '_');
  if (full.length <= MAX_TOOL_NAME && full !== CALL_RESULT_TOOL) return full;
  const hash = createHash('sha256').update(`${connector}\u0000${action}`).digest('hex').slice(0, 8);
  return `${full.slice(0, MAX_TOOL_NAME - 9)}_${hash}`;
}

/** "Send message in Slack": what the approval and the tool's title say. */
export function toolTitle(connector: ConnectorDefinition, action: ActionDefinition): string {
  return `${action.name} in ${connector.name}`;
}

const ADDITIVE = /^(create|send|add|post|upload|invite|comment|append|reply|publish|start|schedule|log)/i;

/**
 * MCP tool annotations from what the action says about itself: a read is read-only, non-destructive
 * and idempotent; a write is idempotent when the engine may repeat it safely (retrySafe), and
 * destructive unless it only adds something (create/send/add…).
 */
export function toolAnnotations(connector: ConnectorDefinition, key: string, action: ActionDefinition) {
  return {
    title: toolTitle(connector, action),
    readOnlyHint: action.readOnly,
    destructiveHint: action.readOnly ? false : !ADDITIVE.test(key),
    idempotentHint: action.readOnly ? true : action.retrySafe,
    openWorldHint: true,
  };
}

/**
 * The input in plain words for the person approving: one line per field, values shortened. It
 * always starts with fixed words, so a caller's string never reaches the start (where "=" would
 * make it an expression).
 */
export function describeInput(title: string, schema: Record<string, unknown>, input: Record<string, unknown>): string {
  const properties = (schema.properties ?? {}) as Record<string, { title?: string }>;
  const lines = Object.entries(input).map(([key, value]) => {
    const label = properties[key]?.title ?? humanize(key);
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    return `- ${label}: ${text.length > 300 ? `${text.slice(0, 299)}…` : text}`;
  });
  const body = lines.length > 0 ? lines.join('\n') : '(no input)';
  return `Your AI assistant asks to ${title.charAt(0).toLowerCase()}${title.slice(1)} with:\n${body}`.slice(0, 5000);
}

function humanize(key: string): string {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .trim()
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}
