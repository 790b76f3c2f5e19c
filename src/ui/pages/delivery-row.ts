import type { Delivery } from '../../store/delivery-store.js';
import { badge, when } from '../format.js';
import { type Html, html } from '../html.js';

/** One delivery as a row of the list (and of the live tail). */
export function deliveryRow(d: Delivery): Html {
  return html`<tr><td><a href="/ui/deliveries/${d.id}">${d.id}</a></td><td>${d.destination_id}</td><td><a href="/ui/events/${d.event_id}">${d.event_id}</a></td><td>${badge(d.status)}</td><td class="num">${d.attempts}</td><td class="num">${d.last_status ?? ''}</td><td>${d.last_error?.slice(0, 120) ?? ''}</td><td>${when(d.created_at)}</td></tr>`;
}
