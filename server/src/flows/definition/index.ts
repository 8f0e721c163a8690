/**
 * Flow definitions: the document format (schema + types), its validation, and the expression
 * language. Pure: no NestJS, no database. See docs/flows.md.
 */
export * from './flow-definition.schema';
export * from './expressions';
export * from './validate-definition';
export { parseIsoDuration, durationMs } from './durations';
