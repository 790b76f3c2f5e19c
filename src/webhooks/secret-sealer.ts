/**
 * The part of the vault a module needs to keep secrets of its own rows (sources' and destinations'
 * signing secrets): seal a JSON value for a column context, open it again. The vault module offers it.
 */
export interface SecretSealer {
  sealJson(value: unknown, context: string): Promise<string>;
  openJson<T>(ciphertext: string, context: string): Promise<T>;
}
