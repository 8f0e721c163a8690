/**
 * Every failed call: an answer of the API (`status`, its stable `code`, `message`, `details`), or
 * no answer at all (`status` 0, code `timeout` or `network_error`).
 */
export class SwitchboardError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
    /** The x-request-id of the answer, to quote when asking for help. */
    readonly requestId?: string,
  ) {
    super(message);
    this.name = 'SwitchboardError';
  }
}

/** A webhook whose signature, timestamp or body did not check out. Answer it with a 400 and ignore it. */
export class WebhookVerificationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookVerificationError';
  }
}
