import type { StoredEvent } from '../../store/event-store.js';
import { when } from '../format.js';
import { type Html, html } from '../html.js';

/** One event as a row of the list (and of the live tail). */
export function eventRow(e: StoredEvent): Html {
  return html`<tr><td><a href="/ui/events/${e.id}">${e.id}</a></td><td>${e.source}</td><td>${e.type}</td><td class="num">${e.body.length}</td><td class="num">${e.duplicates}</td><td>${when(e.receivedAt)}</td></tr>`;
}
