/** The records fake for the benchmarks, in its own process: seeds RECORDS records, reports its URL. */
import { startRecordsFake } from '../src/testing/records-fake/index.js';

const fake = await startRecordsFake({ seed: Number(process.env.RECORDS ?? 0), pageSize: 100 });
process.send?.(fake.url);
process.on('disconnect', () => void fake.close().then(() => process.exit(0)));
