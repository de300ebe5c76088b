import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeImageDelete } from '../../src/docker/decode.js';

// Answers of DELETE /images/{…} recorded on dockerd 20.10.24 (ids shortened).
const REF_A = '127.0.0.1:5000/lw/mra@sha256:a56db166d71d';
const REF_B = '127.0.0.1:5000/lw/mrb@sha256:a56db166d71d';

describe('decodeImageDelete', () => {
  it('a reference that was not the last: untagged, the image stays', () => {
    assert.deepEqual(decodeImageDelete([{ Untagged: REF_A }]), { kind: 'untagged' });
  });

  it('the last reference: untagged and deleted, the image is gone', () => {
    const answer = [
      { Untagged: REF_B },
      { Deleted: 'sha256:8d8fbbff9b05' },
      { Deleted: 'sha256:dfb43e7ae694' },
    ];
    assert.deepEqual(decodeImageDelete(answer), { kind: 'removed' });
  });

  it('by id (deleted), or a body it does not know: removed, as a 200 always counted', () => {
    assert.deepEqual(decodeImageDelete([{ Deleted: 'sha256:8d8fbbff9b05' }]), { kind: 'removed' });
    for (const body of [[], null, '', { message: 'x' }, [null], [{ Untagged: 7 }]])
      assert.deepEqual(decodeImageDelete(body), { kind: 'removed' }, JSON.stringify(body));
  });
});
