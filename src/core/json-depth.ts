/** JSON nesting deeper than this is refused everywhere Patchbay reads JSON: no sender needs it. */
export const MAX_JSON_DEPTH = 64;

/**
 * Whether `root` nests objects or arrays deeper than `max` levels. Walks with its own stack, so a value
 * nested 100,000 deep is judged without overflowing the call stack (as `JSON.stringify` would later).
 */
export function nestsDeeperThan(root: unknown, max: number = MAX_JSON_DEPTH): boolean {
  const stack: Array<[unknown, number]> = [[root, 0]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    if (value === null || typeof value !== 'object') continue;
    if (depth >= max) return true;
    for (const child of Object.values(value)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return false;
}
