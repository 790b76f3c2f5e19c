import { ErrorCode, PatchbayError } from '../core/errors.js';
import type { Connection } from '../vault/connection-model.js';
import type { ProviderDefinition } from './provider.js';

/**
 * A connection's `metadata` read as its provider's settings. A bad value fails with `CONFIG_INVALID`
 * naming the connection and the field (`connections.crm.metadata.tier: must be one of …`).
 */
export function settingsOf<Settings>(
  definition: ProviderDefinition<Settings>,
  connection: Connection,
): Settings {
  const parsed = definition.settings.safeParse(connection.metadata ?? {});
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => {
    const path = ['connections', connection.id, 'metadata', ...issue.path.map(String)].join('.');
    const message =
      issue.code === 'unrecognized_keys'
        ? `${definition.name} has no setting ${issue.keys.map((k) => `"${k}"`).join(', ')}`
        : issue.message;
    return `${path}: ${message}`;
  });
  throw new PatchbayError(ErrorCode.CONFIG_INVALID, issues.join('; '), {
    data: { connection: connection.id, provider: definition.id },
  });
}
