export {
  AuthorizationFlow,
  type AuthorizationFlowOptions,
  type StartedAuthorization,
} from './authorization-flow.js';
export { CIPHERTEXT_VERSION, ciphertextPrefix, type RandomBytes } from './cipher.js';
export { authorizationFor, ConnectionAuthProvider, VaultAuthResolver } from './connection-auth.js';
export {
  type AuthSecrets,
  type AuthSettings,
  type Connection,
  type ConnectionView,
  connectionView,
  MASK,
  type StoredCredentials,
} from './connection-model.js';
export {
  type ConnectionPatch,
  ConnectionService,
  type ConnectionServiceOptions,
  type ConnectionState,
  NOT_AUTHORIZED,
} from './connection-service.js';
export { deriveKeyId, formatKey, generateKey, type KeyEntry, parseKeyList } from './key-material.js';
export {
  KeyRotation,
  type RotateOptions,
  type RotationProgress,
  type RotationResult,
} from './key-rotation.js';
export {
  createGeneratedKeyFile,
  findKeySource,
  GENERATED_KEY_FILE,
  generatedKeyPath,
  KEY_ENV,
  KEY_FILE_ENV,
  type KeySource,
} from './key-source.js';
export { Keyring } from './keyring.js';
export {
  isLoopbackUrl,
  OAuthClient,
  type OAuthClientOptions,
  type OAuthServerConfig,
  oauthErrorOf,
  REAUTH_ERRORS,
  type TokenSet,
} from './oauth-client.js';
export { type OpenVaultOptions, openVault, type VaultServices, type VaultSettings } from './open-vault.js';
export { type GrantEvent, TokenRefreshManager, type TokenRefreshOptions } from './token-refresh.js';
export {
  columnContext,
  type EncryptedColumn,
  encryptedColumn,
  VAULT_COLUMNS,
  Vault,
  type VaultOptions,
} from './vault.js';
