import { generate } from 'selfsigned';

/** A key and certificate (PEM) for a fake's https listener; `cert` is also what a client trusts. */
export interface FakeTlsMaterial {
  key: string;
  cert: string;
}

/**
 * A fresh self-signed certificate for 127.0.0.1 and localhost, valid for a day. An EC key keeps
 * generation to a few milliseconds (RSA 2048 takes up to a second on a busy machine). The certificate
 * is its own CA (`basicConstraints cA`), so a client trusts it by passing it as `ca`.
 */
export async function selfSignedCertificate(now: Date = new Date()): Promise<FakeTlsMaterial> {
  const pems = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: new Date(now.getTime() - 60_000),
    notAfterDate: new Date(now.getTime() + 86_400_000),
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', digitalSignature: true, keyCertSign: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  });
  return { key: pems.private, cert: pems.cert };
}
