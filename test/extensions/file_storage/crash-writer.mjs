// Child process for the crash test: enqueues batches into a FileQueueStore as
// fast as it can (4 at a time) and prints the number of each batch once its
// put resolved (= acknowledged), until the parent kills it with SIGKILL.
// argv: <path of the compiled file-queue-store.js> <queue dir>
const [, , modulePath, dir] = process.argv;
const { FileQueueStore } = await import(modulePath);
const quiet = { info() {}, warn() {}, error() {}, debug() {} };
const store = await FileQueueStore.open(dir, quiet);
await store.recover();

function payloadOf(n) {
  return Buffer.alloc(1000 + (n % 7) * 5000, n % 251);
}

let next = 0;
async function writer() {
  while (next < 100_000) {
    const n = next++;
    await store.put(payloadOf(n), n);
    process.stdout.write(`${n}\n`);
  }
}
await Promise.all([writer(), writer(), writer(), writer()]);
