/**
 * A tenant id that came from an authenticated principal (or a system job that iterates tenants).
 * Tenant-scoped data access only takes this type, so an id read from a URL or a body cannot be
 * used as a tenant scope by accident.
 */
export type TenantId = string & { readonly __brand: 'TenantId' };

/** The only way to make a TenantId: call it where the id is known to be trusted, and say why. */
export const trustedTenantId = (id: string): TenantId => id as TenantId;
