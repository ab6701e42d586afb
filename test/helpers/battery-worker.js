/**
 * Sends a battery of prepared requests in a loop from its own thread, so the client's work
 * (e.g. uploading 10 MB) does not share the event loop with the server under test.
 * workerData: { requests: [{ url, method, headers, body }], pauseMs }. Stops on any message.
 */
const { parentPort, workerData } = require('node:worker_threads');

let running = true;
parentPort.on('message', () => {
  running = false;
});

(async () => {
  let sent = 0;
  while (running) {
    await Promise.all([
      ...workerData.requests.map(async (r) => {
        try {
          const res = await fetch(r.url, { method: r.method, headers: r.headers, body: r.body });
          await res.arrayBuffer();
        } catch {
          // the server may close oversized uploads early; that is an answer too
        }
        sent++;
      }),
      new Promise((resolve) => setTimeout(resolve, workerData.pauseMs)),
    ]);
  }
  parentPort.postMessage({ sent });
})();
