import type { FastifyInstance } from 'fastify';
import type { FakeKit, FakeProvider } from '../../fake-kit/index.js';
import { AccessTokens } from './access-tokens.js';
import { AppRegistry } from './apps.js';
import { batchRoute } from './batch-route.js';
import { CONTROL_ROUTES, controlRoutes } from './control-routes.js';
import { deltaRoutes } from './delta-route.js';
import { DeltaStates } from './delta-states.js';
import { DEFAULT_TENANT_ID, Directory } from './directory.js';
import { type FakeSettings, type FakeSettingsInput, parseSettings } from './fake-settings.js';
import { folderRoutes } from './folder-routes.js';
import { registerGraphRoutes } from './graph-router.js';
import { MailControl } from './mail-control.js';
import { MailboxThrottle } from './mailbox-throttle.js';
import { messageRoutes } from './message-routes.js';
import { NotificationSender } from './notification-sender.js';
import { sendMailRoute } from './send-mail.js';
import { subscriptionRoutes } from './subscription-routes.js';
import { SubscriptionRegistry } from './subscriptions.js';
import { tokenRoute } from './token-route.js';
import { userRoutes } from './user-routes.js';

/** Messages each default user's Inbox starts with (after start and after `/_fake/reset`). */
const DEFAULT_INBOX = 5;

/** The parts that need the kit's clock, made when the first listener registers its routes. */
interface Live {
  kit: FakeKit;
  sender: NotificationSender;
  subscriptions: SubscriptionRegistry;
  control: MailControl;
}

/**
 * Microsoft Graph mail and the Entra ID token endpoint on one origin, built on the fake kit. One state
 * serves both listeners (http and https). See `docs/connectors/msgraph.md` for what it reproduces.
 */
export class MsGraphFake implements FakeProvider {
  readonly name = 'msgraph';
  private settings: FakeSettings;
  private readonly initial: FakeSettings;
  readonly apps = new AppRegistry();
  readonly tokens = new AccessTokens();
  readonly throttle = new MailboxThrottle(() => this.settings);
  readonly states = new DeltaStates(() => this.settings.deltaStateCapacity);
  private readonly inboxSize: number;
  private live: Live | undefined;
  private directoryRef: Directory | undefined;

  private readonly certificate: string | undefined;

  constructor(settings: FakeSettingsInput = {}, options: { inboxSize?: number; certificate?: string } = {}) {
    this.settings = parseSettings(settings);
    this.initial = this.settings;
    this.inboxSize = options.inboxSize ?? DEFAULT_INBOX;
    this.certificate = options.certificate;
    this.apps.reset();
  }

  get directory(): Directory {
    if (!this.directoryRef) throw new Error('the Graph fake is not started');
    return this.directoryRef;
  }

  /** The in-process control plane (what `/_fake/…` calls), for tests in the same process. */
  get control(): MailControl {
    return this.started().control;
  }

  get subscriptions(): SubscriptionRegistry {
    return this.started().subscriptions;
  }

  currentSettings(): FakeSettings {
    return this.settings;
  }

  /** Changes settings live (`POST /_fake/settings`); a bad value is a RangeError naming the field. */
  updateSettings(input: unknown): FakeSettings {
    this.settings = parseSettings(input, this.settings);
    return this.settings;
  }

  routes(app: FastifyInstance, kit: FakeKit): void {
    const live = this.live ?? this.init(kit);
    const directory = this.directory;
    tokenRoute(app, kit, this.apps, this.tokens);
    registerGraphRoutes(
      app,
      {
        kit,
        tokens: this.tokens,
        directory,
        throttle: this.throttle,
        latencyMs: () => this.settings.latencyMs,
      },
      [
        ...userRoutes(directory),
        ...folderRoutes(),
        ...messageRoutes(),
        ...deltaRoutes(this.states, () => this.settings),
        sendMailRoute(directory, kit, () => this.settings.sentItemsDelayMs),
        batchRoute(app),
        ...subscriptionRoutes(live.subscriptions, directory, live.sender, () => this.settings),
      ],
    );
    app.get('/_fake/tls', async (_request, reply) => {
      if (!this.certificate) return reply.status(404).send({ error: 'this fake serves no https' });
      return reply.type('application/x-pem-file').send(this.certificate);
    });
    controlRoutes(app, {
      kit,
      control: live.control,
      apps: this.apps,
      subscriptions: live.subscriptions,
      sender: live.sender,
      settings: { get: () => this.settings, set: (input) => this.updateSettings(input) },
    });
  }

  describe(): Record<string, unknown> {
    const app = this.apps.list()[0]!;
    return {
      tenantId: DEFAULT_TENANT_ID,
      tokenEndpoint: `/${app.tenantId}/oauth2/v2.0/token`,
      graph: '/v1.0/',
      apps: this.apps.list(),
      users: this.live
        ? this.directory.users().map((u) => ({ id: u.id, mail: u.mail, displayName: u.displayName }))
        : [],
      maxExpirationMinutes: this.settings.maxExpirationMinutes,
      ...(this.certificate && {
        tls: 'GET /_fake/tls: the self-signed certificate to trust for https (PEM)',
      }),
      providerControl: CONTROL_ROUTES,
    };
  }

  reset(): void {
    this.settings = this.initial;
    this.apps.reset();
    this.throttle.reset();
    this.states.clear();
    const live = this.started();
    live.subscriptions.reset();
    live.sender.reset();
    this.seedDefaults();
  }

  /** `POST /_fake/seed`: `{ users?: [...], messages?: [{ user, folder?, count?, message?, messages? }] }`. */
  seed(input: unknown): unknown {
    const { control } = this.started();
    const body = (input ?? {}) as { users?: unknown; messages?: unknown };
    if (body.users !== undefined && !Array.isArray(body.users))
      throw new RangeError('users must be an array');
    if (body.messages !== undefined && !Array.isArray(body.messages))
      throw new RangeError('messages must be an array');
    const users = ((body.users ?? []) as never[]).map((u) => control.addUser(u).user);
    const messages = ((body.messages ?? []) as Array<{ user?: unknown }>).map((batch) => {
      if (typeof batch?.user !== 'string') throw new RangeError('each messages entry needs a user');
      return control.deliver(batch.user, batch as never).map((m) => m.id);
    });
    return { users, messages };
  }

  stats(): Record<string, unknown> {
    const live = this.live;
    return {
      messages: this.live ? this.directory.all().reduce((n, m) => n + m.size, 0) : 0,
      deltaStates: this.states.size,
      subscriptions: live ? live.subscriptions.list().length : 0,
    };
  }

  async close(): Promise<void> {
    this.live?.subscriptions.reset();
    await this.live?.sender.close();
  }

  private started(): Live {
    if (!this.live) throw new Error('the Graph fake is not started');
    return this.live;
  }

  private init(kit: FakeKit): Live {
    let subscriptions: SubscriptionRegistry | undefined;
    this.directoryRef = new Directory(
      () => kit.clock.now(),
      (change) => subscriptions?.onChange(change),
    );
    const sender = new NotificationSender(
      kit,
      () => this.settings,
      (record) => subscriptions?.onDropped(record),
    );
    subscriptions = new SubscriptionRegistry(kit, sender, () => this.settings.reauthorizationIntervalMs);
    const control = new MailControl(this.directoryRef, this.states, subscriptions, () => kit.clock.now());
    this.live = { kit, sender, subscriptions, control };
    this.seedDefaults();
    return this.live;
  }

  private seedDefaults(): void {
    const directory = this.directory;
    directory.reset();
    for (const mailbox of directory.all()) {
      this.live!.control.deliver(mailbox.user.mail, {
        count: this.inboxSize,
        messages: [
          {
            subject: 'Contract draft attached',
            from: 'legal@fabrikam.test',
            attachments: [{ name: 'contract.txt', contentType: 'text/plain', content: 'The contract.\n' }],
          },
          {
            subject: 'Signature with our logo only',
            from: 'marketing@northwind.test',
            body: {
              contentType: 'html',
              content: '<html><body><p>Hi!</p><img src="cid:logo@northwind"></body></html>',
            },
            attachments: [
              {
                name: 'logo.png',
                contentType: 'image/png',
                contentBytes: 'iVBORw0KGgo=',
                isInline: true,
                contentId: 'logo@northwind',
              },
            ],
          },
        ],
      });
    }
  }
}
