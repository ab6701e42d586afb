/**
 * Serves a copy of a PGlite data folder on a free port, in its own process (jest's VM cannot load
 * PGlite in a test). Prints "ready postgres://…" on stdout, stops on SIGTERM or stdin close.
 *   node embedded-server.js <dataDir>
 */
const { PGlite } = require('@electric-sql/pglite');
const { postgis } = require('@electric-sql/pglite-postgis');
const { PGLiteSocketServer } = require('@electric-sql/pglite-socket');

async function main() {
  const db = await PGlite.create({ dataDir: process.argv[2], extensions: { postgis } });
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 16 });
  await server.start();
  process.stdout.write(`ready postgres://postgres@${server.getServerConn()}/postgres\n`);
  const stop = async () => {
    await server.stop();
    await db.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.stdin.on('close', stop);
  process.stdin.resume();
}

main().catch((err) => {
  process.stderr.write(`${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
