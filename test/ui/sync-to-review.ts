import type { Engine } from '../../src/engine/index.js';
import { MemorySource } from '../sync/memory-source.js';

/**
 * A bidirectional sync `people` of 30 records on `engine` with something to review on its page: an open
 * conflict on 000001 (both sides changed it; conflicts wait for a person) and 000005 quarantined (the
 * source sent a name the schema refuses). Its safety valve holds a full read's deletes beyond 10 %.
 */
export async function syncToReview(engine: Engine): Promise<MemorySource> {
  const source = new MemorySource();
  source.seed(30);
  await engine.syncs.define(
    source.sync({
      push: (_ctx, changes) => source.push(changes),
      conflicts: { strategy: 'manual' },
      deletes: { maxShare: 0.1, floor: 0 },
    }),
  );
  await engine.syncs.runNow('people');
  const stored = await engine.syncs.record('people', '000001');
  await engine.syncs.write('people', [{ data: { ...JSON.parse(stored.data), name: 'local' } }]);
  source.put('000001', { name: 'remote' });
  source.put('000005', { name: 42 as unknown as string });
  await engine.syncs.runNow('people');
  return source;
}
