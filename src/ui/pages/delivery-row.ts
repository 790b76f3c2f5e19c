import type { Delivery } from '../../store/delivery-store.js';
import { badge, when } from '../format.js';
import { type Html, html } from '../html.js';

/** One delivery as a row of the list (and of the live tail). */
export function deliveryRow(d: Delivery): Html {
  return html`<tr><td><a href="/ui/deliveries/${d.id}">${d.id}</a></td><td>${d.destinationId}</td><td><a href="/ui/events/${d.eventId}">${d.eventId}</a></td><td>${badge(d.status)}</td><td class="num">${d.attempts}</td><td class="num">${d.lastStatus ?? ''}</td><td>${d.lastError?.slice(0, 120) ?? ''}</td><td>${when(d.createdAt)}</td></tr>`;
}
