/**
 * Every error the API answers with has a stable code. The HTTP status of each code is decided here
 * and nowhere else; the exception filter turns an AppError into the error envelope.
 */
export const ERROR_STATUS = {
  validation_failed: 400,
  malformed_json: 400,
  json_too_deep: 400,
  invalid_cursor: 400,
  unauthenticated: 401,
  invalid_credentials: 401,
  invalid_api_key: 401,
  webhook_signature_invalid: 401,
  invitation_requires_sign_in: 401,
  jwt_malformed: 401,
  jwt_signing_key_unknown: 401,
  jwt_signature_invalid: 401,
  jwt_claim_invalid: 401,
  jwt_expired: 401,
  forbidden: 403,
  insufficient_role: 403,
  csrf_rejected: 403,
  origin_not_allowed: 403,
  invitation_email_mismatch: 403,
  signup_disabled: 403,
  not_found: 404,
  llm_provider_not_found: 404,
  route_not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  provider_key_taken: 409,
  provider_in_use: 409,
  connection_needs_reauth: 409,
  connection_missing: 409,
  llm_model_missing: 409,
  flow_paused: 409,
  last_owner: 409,
  approval_already_decided: 409,
  run_not_retryable: 409,
  run_already_finished: 409,
  rollout_in_progress: 409,
  rollout_not_changeable: 409,
  version_not_newer: 409,
  environment_protected: 409,
  promotion_outdated: 409,
  invite_expired: 410,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  too_many_failed_attempts: 429,
  internal_error: 500,
  provider_error: 502,
  provider_unreachable: 502,
  service_unavailable: 503,
  database_unavailable: 503,
  queue_unavailable: 503,
  provider_timeout: 504,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class AppError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
    /** Extra response headers, e.g. Retry-After. */
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'AppError';
    this.status = ERROR_STATUS[code];
  }
}

export const notFound = (what: string, id?: string) => new AppError('not_found', id ? `${what} ${id} was not found` : `${what} was not found`);
