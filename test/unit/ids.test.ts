import { test } from 'node:test';
import assert from 'node:assert/strict';
import { localPartOf, ownedId, ownerOf } from '../../src/ids.js';
import { newSplitToken, parseSplitToken, systemRandom } from '../../src/core/crypto.js';

const R = 'AAAAAAAAAAAAAAAAAAAAAA'; // 22
const UID = 'u5Yq0xK1bT2mN3pR4sV6wA'; // 22
const SECRET = 'S'.repeat(43);

test('an owned id is the random part followed by the user id, and names that user', () => {
  const id = ownedId(R, UID);
  assert.equal(id, R + UID);
  assert.equal(ownerOf(id), UID);
  assert.equal(localPartOf(id, UID), R);
  assert.equal(localPartOf(id, 'someone-else-entirely-x'), null);
  assert.equal(localPartOf(R + 'x' + UID, UID), null, 'a longer id is not an id of this user');
});

test('plain 22-character ids, and strings outside the alphabet or too long, name no user', () => {
  assert.equal(ownerOf(R), null);
  assert.equal(ownerOf(''), null);
  assert.equal(ownerOf(R + 'a.b'), null);
  assert.equal(ownerOf(R + 'x'.repeat(65)), null);
  assert.equal(ownerOf(R + 'x'.repeat(64)), 'x'.repeat(64));
  assert.throws(() => ownedId(R, ''), TypeError);
  assert.throws(() => ownedId(R, 'a/b'), TypeError);
  assert.throws(() => ownedId(R.slice(1), UID), TypeError);
});

test('parseSplitToken accepts plain and owned ids, and nothing else', () => {
  assert.deepEqual(parseSplitToken(`${R}.${SECRET}`), { id: R, secret: SECRET });
  assert.deepEqual(parseSplitToken(`${R}${UID}.${SECRET}`), { id: R + UID, secret: SECRET });
  for (const bad of [
    `${R.slice(1)}.${SECRET}`, // id too short
    `${R}${'x'.repeat(65)}.${SECRET}`, // id too long
    `${R}${UID}.${SECRET}x`, // secret too long: the dot is not where the secret starts
    `${R}${UID}.${SECRET.slice(1)}`,
    `${R}.${UID}.${SECRET}`, // an extra part
    `${R}${UID}=.${SECRET}`,
    `${R}${UID}.${SECRET.slice(1)}=`,
    `${R}${UID}:${SECRET}`,
    '',
    null,
    undefined,
  ]) {
    assert.equal(parseSplitToken(bad), null, String(bad));
  }
});

test('newSplitToken with an owner makes an owned id that parses back', () => {
  const t = newSplitToken(systemRandom, UID);
  assert.equal(ownerOf(t.id), UID);
  assert.deepEqual(parseSplitToken(t.token), { id: t.id, secret: t.secret });
  const plain = newSplitToken(systemRandom);
  assert.equal(plain.id.length, 22);
  assert.equal(ownerOf(plain.id), null);
});

test('a user id outside the alphabet gets plain ids (stores that route by user refuse those), never an error', async () => {
  const { newOwnedId } = await import('../../src/core/crypto.js');
  assert.equal(ownerOf(newOwnedId(systemRandom, UID)), UID);
  for (const odd of ['user@example.com', 'a'.repeat(65), 'ümlaut', '']) {
    const id = newOwnedId(systemRandom, odd);
    assert.equal(id.length, 22);
    assert.equal(ownerOf(id), null);
    assert.deepEqual(parseSplitToken(newSplitToken(systemRandom, odd).token)?.id.length, 22);
  }
});
