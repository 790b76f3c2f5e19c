import type { Directory } from './directory.js';
import { badRequest, GraphFault } from './graph-errors.js';
import { type GraphRoute, json } from './graph-route.js';
import type { FakeUser } from './mail-types.js';
import { topOf } from './odata-query.js';
import { linkTo } from './request-parts.js';

/** `GET /users` (100 a page, `$top` up to 999, an opaque `$skiptoken`) and `GET /users/{id | upn}`. */
export function userRoutes(directory: Directory): GraphRoute[] {
  return [
    {
      method: 'GET',
      pattern: 'users',
      access: 'users.read',
      handle(request) {
        const users = directory.users();
        const top = topOf(request.query, 100, 999);
        const token = request.query.get('$skiptoken');
        const skip = token === undefined ? 0 : offsetOf(token);
        const body: Record<string, unknown> = {
          '@odata.context': `${request.origin}/v1.0/$metadata#users`,
          value: users.slice(skip, skip + top).map(renderUser),
        };
        if (skip + top < users.length) {
          const next = new Map(request.query);
          next.set(
            '$skiptoken',
            `RFNwdAIAAQAAAA${Buffer.from(`offset:${skip + top}`).toString('base64url')}`,
          );
          body['@odata.nextLink'] = linkTo(request.origin, 'users', next);
        }
        return json(body);
      },
    },
    {
      method: 'GET',
      pattern: 'users/:user',
      access: 'users.read',
      handle(request) {
        const mailbox = directory.user(request.params.user!);
        if (!mailbox) {
          throw new GraphFault(
            404,
            'Request_ResourceNotFound',
            `Resource '${request.params.user}' does not exist or one of its queried reference-property objects are not present.`,
          );
        }
        return json({
          '@odata.context': `${request.origin}/v1.0/$metadata#users/$entity`,
          ...renderUser(mailbox.user),
        });
      },
    },
  ];
}

function offsetOf(token: string): number {
  const decoded = Buffer.from(token.replace(/^RFNwdAIAAQAAAA/, ''), 'base64url').toString('utf8');
  const match = /^offset:(\d+)$/.exec(decoded);
  if (!match)
    throw badRequest(
      'The specified page token value has expired and can no longer be included in your request.',
      'Directory_ExpiredPageToken',
    );
  return Number(match[1]);
}

function renderUser(user: FakeUser): Record<string, unknown> {
  return {
    businessPhones: [],
    displayName: user.displayName,
    givenName: user.givenName,
    jobTitle: user.jobTitle,
    mail: user.mail,
    mobilePhone: null,
    officeLocation: null,
    preferredLanguage: 'en-US',
    surname: user.surname,
    userPrincipalName: user.userPrincipalName,
    id: user.id,
  };
}
