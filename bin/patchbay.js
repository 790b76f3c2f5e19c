#!/usr/bin/env node
import { main } from '../dist/cli/main.js';

main(process.argv).catch((err) => {
  // main() prints its own errors; this is the last resort for a bug in the CLI itself.
  console.error(`patchbay: ${err?.message ?? err}`);
  process.exit(1);
});
