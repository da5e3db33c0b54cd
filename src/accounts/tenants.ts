import { randomUUID } from 'node:crypto';
import type { Db } from '../db/db.ts';
import { AppError } from '../errors/catalogue.ts';

export interface Tenant {
  id: string;
  slug: string;
  name: string;
}

export interface User {
  id: string;
  tenantId: string;
  email: string;
  firstName: string;
  lastName: string;
  role: Role;
  status: 'active' | 'deactivated';
  ssoLinked: boolean;
}

export type Role = 'admin' | 'member';

export interface UserRow {
  id: string;
  tenant_id: string;
  email: string;
  first_name: string;
  last_name: string;
  role: Role;
  status: 'active' | 'deactivated';
  password_hash: string | null;
  sso_issuer: string | null;
  sso_subject: string | null;
}

export const USER_COLUMNS = 'id, tenant_id, email, first_name, last_name, role, status, password_hash, sso_issuer, sso_subject';

/** The public shape of a user row: never the password hash or IdP subject. */
export function toUser(row: UserRow): User {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    email: row.email,
    firstName: row.first_name,
    lastName: row.last_name,
    role: row.role,
    status: row.status,
    ssoLinked: row.sso_subject !== null,
  };
}

/** What `/api/me` and sign-in answers say about a user. */
export function userView(user: User) {
  return { id: user.id, email: user.email, firstName: user.firstName, lastName: user.lastName, role: user.role };
}

export function tenantView(tenant: Tenant) {
  return { id: tenant.id, slug: tenant.slug, name: tenant.name };
}

const SLUG = /^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/;

/** Creates a tenant; refuses a malformed or taken slug. */
export async function createTenant(db: Db, input: { name: string; slug: string }, now: number): Promise<Tenant> {
  const slug = input.slug.trim();
  const name = input.name.trim();
  if (!SLUG.test(slug) || slug.length < 2) throw new AppError('invalid_slug');
  if (!name) throw new AppError('invalid_body', { field: 'name' }, 'The tenant needs a name.');
  const tenant = { id: randomUUID(), slug, name };
  const inserted = await db.run('INSERT INTO tenants (id, slug, name, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (slug) DO NOTHING', [
    tenant.id,
    slug,
    name,
    now,
  ]);
  if (inserted === 0) throw new AppError('slug_taken');
  return tenant;
}

export async function getTenant(db: Db, tenantId: string): Promise<Tenant | undefined> {
  return db.one<Tenant>('SELECT id, slug, name FROM tenants WHERE id = $1', [tenantId]);
}

export async function getTenantBySlug(db: Db, slug: string): Promise<Tenant | undefined> {
  return db.one<Tenant>('SELECT id, slug, name FROM tenants WHERE slug = $1', [slug]);
}

export async function listTenants(db: Db): Promise<(Tenant & { members: number })[]> {
  return db.all<Tenant & { members: number }>(
    `SELECT t.id, t.slug, t.name, (SELECT count(*) FROM users u WHERE u.tenant_id = t.id) AS members
     FROM tenants t ORDER BY t.created_at, t.slug`,
  );
}

export async function getUser(db: Db, tenantId: string, userId: string): Promise<UserRow | undefined> {
  return db.one<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE tenant_id = $1 AND id = $2`, [tenantId, userId]);
}

export async function findUserByEmail(db: Db, tenantId: string, email: string): Promise<UserRow | undefined> {
  return db.one<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE tenant_id = $1 AND email = $2`, [tenantId, email]);
}

/** Inserts a user; `already_member` when the email is taken in that tenant. */
export async function insertUser(
  db: Db,
  tenantId: string,
  input: { email: string; firstName: string; lastName: string; role: Role; passwordHash: string | null },
  now: number,
): Promise<UserRow> {
  const id = randomUUID();
  const inserted = await db.run(
    `INSERT INTO users (id, tenant_id, email, first_name, last_name, role, status, password_hash, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, 'active', $7, $8, $8) ON CONFLICT (tenant_id, email) DO NOTHING`,
    [id, tenantId, input.email, input.firstName, input.lastName, input.role, input.passwordHash, now],
  );
  if (inserted === 0) throw new AppError('already_member');
  return (await getUser(db, tenantId, id))!;
}

/**
 * Serialises changes to one tenant's membership inside a transaction (for the
 * last-admin rule): a no-op write takes the tenant's row lock on PostgreSQL;
 * SQLite transactions are serial already.
 */
export async function lockTenant(tx: Db, tenantId: string): Promise<void> {
  await tx.run('UPDATE tenants SET slug = slug WHERE id = $1', [tenantId]);
}
