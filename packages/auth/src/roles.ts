import { z } from 'zod';

/** The roles a token can have, from most to least trusted. */
export const ROLES = ['admin', 'trainer', 'client'] as const;

/** A token's role. */
export type Role = (typeof ROLES)[number];

/** The role schema, for requests, records and the environment. */
export const roleSchema = z.enum(ROLES);

/**
 * What a request needs. `predict`: classify (and compare). `read`: the catalogue, versions,
 * history and jobs. `train`: labeled data under the model's own policy. `feedback`: labels for
 * served predictions. `admin`: anything that changes which model serves or how it is judged
 * (register, archive, roll back, reset, trusted rows, a per-request policy) and tokens.
 */
export type Permission = 'predict' | 'read' | 'train' | 'feedback' | 'admin';

/** The one table from role to what it may do. */
const GRANTS: Readonly<Record<Role, ReadonlySet<Permission>>> = {
  admin: new Set<Permission>(['predict', 'read', 'train', 'feedback', 'admin']),
  trainer: new Set<Permission>(['predict', 'read', 'train', 'feedback']),
  client: new Set<Permission>(['predict', 'read', 'feedback']),
};

/** Whether `role` may do `permission`. */
export function roleGrants(role: Role, permission: Permission): boolean {
  return GRANTS[role].has(permission);
}

/** The roles that may do `permission`, least trusted first (for messages: "a trainer or admin token"). */
export function rolesFor(permission: Permission): Role[] {
  return ROLES.filter((r) => roleGrants(r, permission)).reverse();
}

/** The token `permission` needs, as messages and the API's documentation say it: "an admin token", "a trainer or admin token". */
export function tokenNeeded(permission: Permission): string {
  const roles = rolesFor(permission).join(' or ');
  return `${/^[aeiou]/.test(roles) ? 'an' : 'a'} ${roles} token`;
}
