import { randomBytes } from 'node:crypto';

/**
 * This process, unique across hosts and restarts. It is the `application_name` of every
 * PostgreSQL connection the process opens, so PostgreSQL itself can tell whether the process is
 * still alive (a killed process's connections close with it): see the poison-run count in
 * RunProcessor. At most 63 characters (PostgreSQL truncates beyond).
 */
export const PROCESS_ID = `switchboard:${process.pid}:${randomBytes(6).toString('hex')}`;
