/**
 * The dashboard's only script, served at /ui/assets/ui.js. Every page works without it; with it:
 * forms marked `data-confirm` ask first, a live tail (server-sent events) starts when its button is
 * pressed, and a running job's progress updates in place instead of by page reload.
 */
export const SCRIPT = `"use strict";
document.addEventListener('submit', function (e) {
  var form = e.target;
  var question = form.getAttribute && form.getAttribute('data-confirm');
  if (question && !window.confirm(question)) e.preventDefault();
});
document.addEventListener('DOMContentLoaded', function () {
  var tail = document.querySelector('[data-live]');
  if (tail) {
    var button = document.createElement('button');
    button.type = 'button';
    button.className = 'secondary';
    button.textContent = 'Start live tail';
    button.setAttribute('aria-pressed', 'false');
    var status = document.createElement('span');
    status.setAttribute('role', 'status');
    status.className = 'muted';
    tail.appendChild(button);
    tail.appendChild(status);
    var source = null;
    var list = document.getElementById(tail.getAttribute('data-target'));
    button.addEventListener('click', function () {
      if (source) { source.close(); source = null; button.textContent = 'Start live tail';
        button.setAttribute('aria-pressed', 'false'); status.textContent = ''; return; }
      source = new EventSource(tail.getAttribute('data-live'));
      button.textContent = 'Stop live tail';
      button.setAttribute('aria-pressed', 'true');
      status.textContent = 'Live: new rows appear at the top.';
      source.addEventListener('row', function (m) {
        if (!list) return;
        var template = document.createElement('tbody');
        template.innerHTML = JSON.parse(m.data).html;
        var row = template.firstElementChild;
        if (row) list.insertBefore(row, list.firstElementChild);
        while (list.children.length > 200) list.removeChild(list.lastElementChild);
      });
      source.onerror = function () { status.textContent = 'Live tail interrupted; retrying…'; };
    });
  }
  var job = document.querySelector('[data-job]');
  if (job) {
    var meta = document.querySelector('meta[http-equiv="refresh"]');
    if (meta) meta.parentNode.removeChild(meta);
    var poll = function () {
      fetch(job.getAttribute('data-job'), { headers: { accept: 'application/json' } })
        .then(function (r) { return r.json(); })
        .then(function (j) {
          var bar = job.querySelector('progress');
          var text = job.querySelector('[data-progress-text]');
          if (bar && j.total !== null) { bar.max = Math.max(j.total, 1); bar.value = j.done; }
          if (text) text.textContent = j.summary;
          if (j.state === 'running' || j.state === 'queued') setTimeout(poll, 1000);
          else window.location.reload();
        })
        .catch(function () { setTimeout(poll, 3000); });
    };
    if (job.getAttribute('data-state') === 'running' || job.getAttribute('data-state') === 'queued') setTimeout(poll, 1000);
  }
});
`;
