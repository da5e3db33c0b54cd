import type { Db } from '../db/db.ts';
import { secretContext } from '../sso/config.ts';
import { verifierContext } from '../sso/state.ts';
import type { Sealer } from './sealer.ts';
import { signingKeyContext } from './signing-keys.ts';

/**
 * Every column that holds a value sealed under the master key, with the
 * associated-data context it was sealed with. A capability that adds a sealed
 * column adds it here, so master-key rotation cannot miss it.
 */
const SEALED_COLUMNS: readonly { table: string; id: string; column: string; context: (id: string) => string }[] = [
  { table: 'signing_keys', id: 'kid', column: 'private_key_enc', context: signingKeyContext },
  { table: 'sso_configs', id: 'tenant_id', column: 'client_secret_enc', context: secretContext },
  // PKCE verifiers of sign-ins in flight (at most 5 minutes old).
  { table: 'sso_states', id: 'id', column: 'code_verifier_enc', context: verifierContext },
];

export interface RotationReport {
  /** The version everything is sealed under now. */
  version: string;
  /** How many values were re-sealed, per table. */
  resealed: Record<string, number>;
  /** Versions some value is still sealed under (empty when done). */
  remaining: string[];
}

/**
 * Re-seals every stored secret under the current master key version. Safe
 * while servers run: each value is swapped with a compare-and-set on its old
 * ciphertext, and servers that hold both versions open old and new alike.
 */
export async function resealAll(db: Db, sealer: Sealer): Promise<RotationReport> {
  const version = await sealer.currentVersion();
  const resealed: Record<string, number> = {};
  const remaining = new Set<string>();
  for (const { table, id, column, context } of SEALED_COLUMNS) {
    resealed[table] = 0;
    const rows = await db.all<Record<string, string>>(`SELECT ${id} AS id, ${column} AS sealed FROM ${table} WHERE ${column} IS NOT NULL`);
    for (const row of rows) {
      const sealed = row.sealed!;
      if (sealer.versionOf(sealed) === version) continue;
      const ctx = context(row.id!);
      const plaintext = await sealer.open(sealed, ctx);
      const changed = await db.run(`UPDATE ${table} SET ${column} = $1 WHERE ${id} = $2 AND ${column} = $3`, [
        await sealer.seal(plaintext, ctx),
        row.id,
        sealed,
      ]);
      resealed[table]! += changed;
    }
    for (const row of await db.all<{ sealed: string }>(`SELECT ${column} AS sealed FROM ${table} WHERE ${column} IS NOT NULL`)) {
      const used = sealer.versionOf(row.sealed);
      if (used !== version) remaining.add(used);
    }
  }
  return { version, resealed, remaining: [...remaining] };
}
