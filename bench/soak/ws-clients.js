'use strict';
// A few dozen WebSocket clients that open, chat (one message every 500 ms, echo checked) and
// close on their own after 3–20 s, then open again, until stop(). Uses undici's WebSocket
// (a dependency of the bench package). Failures are counted, never thrown.
const path = require('node:path');
const { setTimeout, clearTimeout, setInterval, clearInterval } = require('node:timers');
const { WebSocket } = require(path.join(__dirname, '..', 'node_modules', 'undici'));

function wsClients({ url, count }) {
  const stats = {
    opened: 0,
    openFailed: 0,
    closedByUs: 0,
    closedByPeer: 0,
    closeCodes: {},
    sent: 0,
    echoed: 0,
    mismatched: 0,
    open: 0,
  };
  let stopping = false;
  const live = new Set();
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  function session(id) {
    return new Promise((resolve) => {
      let ws;
      try {
        ws = new WebSocket(`${url}/ws/${id}`);
      } catch {
        stats.openFailed++;
        resolve();
        return;
      }
      live.add(ws);
      let opened = false;
      let ours = false;
      let seq = 0;
      const expected = [];
      let timer;
      let lifeTimer;
      const finish = () => {
        clearInterval(timer);
        clearTimeout(lifeTimer);
        live.delete(ws);
        resolve();
      };
      const closeOurs = () => {
        ours = true;
        try {
          ws.close(1000, 'done');
        } catch {
          // already closing
        }
      };
      ws.addEventListener('open', () => {
        opened = true;
        stats.opened++;
        stats.open++;
        timer = setInterval(() => {
          if (ws.readyState !== WebSocket.OPEN) return;
          const msg = `c${id}-m${seq++}`;
          expected.push(msg);
          stats.sent++;
          ws.send(msg);
        }, 500);
        lifeTimer = setTimeout(closeOurs, 3000 + Math.random() * 17000);
        if (stopping) closeOurs();
      });
      ws.addEventListener('message', (ev) => {
        const want = expected.shift();
        if (String(ev.data) === want) stats.echoed++;
        else stats.mismatched++;
      });
      ws.addEventListener('error', () => {});
      ws.addEventListener('close', (ev) => {
        if (!opened) stats.openFailed++;
        else {
          stats.open--;
          if (ours) stats.closedByUs++;
          else {
            stats.closedByPeer++;
            stats.closeCodes[ev.code] = (stats.closeCodes[ev.code] || 0) + 1;
          }
        }
        finish();
      });
      ws.closeOurs = closeOurs;
    });
  }

  async function loop(id) {
    await sleep(Math.random() * 2000);
    while (!stopping) {
      await session(id);
      if (!stopping) await sleep(200 + Math.random() * 800);
    }
  }

  const loops = Array.from({ length: count }, (_, i) => loop(i));

  async function stop(timeoutMs = 5000) {
    stopping = true;
    for (const ws of live) if (ws.closeOurs) ws.closeOurs();
    await Promise.race([Promise.all(loops), sleep(timeoutMs)]);
    return live.size; // sockets that did not finish closing in time
  }

  return { stats, stop };
}

module.exports = { wsClients };
