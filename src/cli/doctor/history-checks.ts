import type { AuditHistory } from '../../store/audit-store.js';
import type { Finding } from './finding.js';

/** How far back `doctor` reads the store's history. */
export const HISTORY_MS = 86_400_000;

/** The red flags in the store's last 24 hours, as pure data. */
export function auditHistory(history: AuditHistory): Finding[] {
  const findings: Finding[] = [];
  for (const { source, count } of history.eventsWithoutId) {
    findings.push({
      check: 'no-dedupe-id',
      severity: 'warning',
      subject: `source "${source}"`,
      problem: `${count} events in the last 24 h came without an event id: a retry with a changed body is a new event`,
      fix: "set verify.idHeader to the header holding the sender's event id",
    });
  }
  for (const { destination, count } of history.destination429s) {
    findings.push({
      check: 'rate-limited',
      severity: 'warning',
      subject: `destination "${destination}"`,
      problem: `${count} attempts answered 429 in the last 24 h`,
      fix: 'set its rateLimit (perSecond, maxConcurrent) to what it accepts',
    });
  }
  for (const signal of history.signals) {
    if (signal.kind === 'rate_limited') {
      findings.push({
        check: 'rate-limited',
        severity: 'warning',
        subject: signal.subject.replace(/^connection:(.*)$/, 'connection "$1"'),
        problem: `${signal.count} calls answered 429 in the last 24 h`,
        fix: 'give it its provider (its published limits), or slow the syncs or calls that use it',
      });
    } else if (signal.kind === 'loop_block') {
      const [kind, name] = splitSubject(signal.subject);
      findings.push({
        check: 'event-loop-blocked',
        severity: 'warning',
        subject: `${kind} "${name}"`,
        problem: `it held the event loop ${signal.max} ms (${signal.count} times over 50 ms in the last 24 h): nothing else ran meanwhile`,
        fix: 'await I/O instead of blocking, split the work, or move it to a worker thread',
      });
    }
  }
  return findings;
}

function splitSubject(subject: string): [string, string] {
  const i = subject.indexOf(':');
  return i < 0 ? ['handler', subject] : [subject.slice(0, i), subject.slice(i + 1)];
}
