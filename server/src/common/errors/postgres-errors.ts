import { QueryFailedError } from 'typeorm';

const codeOf = (error: unknown): string | undefined => (error instanceof QueryFailedError ? (error.driverError as { code?: string } | undefined)?.code : undefined);

/** 23505: a UNIQUE constraint refused the row. */
export const isUniqueViolation = (error: unknown): boolean => codeOf(error) === '23505';
