import { type RunningFake, startFakeServer } from '../../fake-kit/index.js';
import { type FakeTlsMaterial, selfSignedCertificate } from '../../fake-kit/self-signed.js';
import type { AppRegistration } from './apps.js';
import type { FakeSettingsInput } from './fake-settings.js';
import { MsGraphFake } from './msgraph-fake.js';

export interface MsGraphFakeOptions extends FakeSettingsInput {
  /** Port of the http listener; ephemeral by default. */
  port?: number;
  /** Port of the https listener; ephemeral by default. */
  httpsPort?: number;
  /** Serve https too (the Graph SDK only sends its token to https hosts). Defaults to true. */
  https?: boolean;
  /** Key and certificate for https; a fresh self-signed pair by default. */
  tls?: FakeTlsMaterial;
  /** Messages in each default user's Inbox at start and after reset (plus two with attachments). Defaults to 5. */
  inboxSize?: number;
}

export interface RunningMsGraphFake extends RunningFake {
  /** The https origin when serving https, else the http one: what a client should use. */
  readonly baseUrl: string;
  /** The certificate to trust for `httpsUrl` (PEM), when serving https. */
  readonly ca: string | undefined;
  /** The default app registration (`GET /_fake/apps`). */
  readonly app: AppRegistration;
  /** `{baseUrl}/{tenant}/oauth2/v2.0/token` for the default registration. */
  readonly tokenUrl: string;
  /** `{baseUrl}/v1.0` */
  readonly graphUrl: string;
  /** The provider's state, for tests in the same process: `fake.graph.control.deliver(…)`. */
  readonly graph: MsGraphFake;
}

/** Starts the Graph fake: http always, https with a self-signed certificate unless `https: false`. */
export async function startMsGraphFake(options: MsGraphFakeOptions = {}): Promise<RunningMsGraphFake> {
  const { port, httpsPort, https = true, tls, inboxSize, ...settings } = options;
  const material = https ? (tls ?? (await selfSignedCertificate())) : undefined;
  const graph = new MsGraphFake(settings, { inboxSize, ...(material && { certificate: material.cert }) });
  const running = await startFakeServer(graph, {
    ...(port !== undefined && { port }),
    ...(material && { tls: { ...material, ...(httpsPort !== undefined && { port: httpsPort }) } }),
  });
  const baseUrl = running.httpsUrl ?? running.url;
  const app = graph.apps.list()[0]!;
  return {
    url: running.url,
    httpsUrl: running.httpsUrl,
    clock: running.clock,
    faults: running.faults,
    close: () => running.close(),
    baseUrl,
    ca: material?.cert,
    app,
    tokenUrl: `${baseUrl}/${app.tenantId}/oauth2/v2.0/token`,
    graphUrl: `${baseUrl}/v1.0`,
    graph,
  };
}
