import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { getTestInstance, PASSWORD, type Seeded, type TestInstance } from '../../test/instance.ts';

describe('password sign-in', () => {
  let t: TestInstance;
  let seeded: Seeded;
  before(async () => {
    t = await getTestInstance();
    seeded = await t.seedTenant();
  });
  after(() => t.close());

  test('a correct password signs in and /api/me answers by cookie and by bearer', async () => {
    const token = await t.login(seeded.admin.email, PASSWORD);
    const byBearer = await t.inject({ method: 'GET', url: '/api/me', token });
    assert.equal(byBearer.statusCode, 200);
    assert.equal(byBearer.json().user.email, seeded.admin.email);
    const byCookie = await t.inject({ method: 'GET', url: '/api/me', cookies: { jams_session: token } });
    assert.equal(byCookie.statusCode, 200);
    assert.equal(byCookie.json().tenant.slug, seeded.tenant.slug);
  });
});
