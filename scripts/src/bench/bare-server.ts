import { createServer } from 'node:http';

// The floor of the /predict load test: a bare node:http server, no framework, that reads and
// parses the JSON body and answers a fixed JSON of the same shape as the API's prediction.
// Run as its own process by the bench: `PORT=0 node scripts/dist/bench/bare-server.js`;
// prints `{"port":N}` on stdout once listening.

const ANSWER = JSON.stringify({
  prediction_id: '00000000-0000-4000-8000-000000000000',
  model: 'iris',
  model_version: 'v1.0-000000',
  prediction: 0,
  class_name: 'setosa',
  probabilities: [0.98237, 0.01763, 2.25e-7],
  probabilities_by_class: { setosa: 0.98237, versicolor: 0.01763, virginica: 2.25e-7 },
});

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    let ok = true;
    try {
      const body: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      ok = typeof body === 'object' && body !== null;
    } catch {
      ok = false;
    }
    if (!ok) {
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"bad json"}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(ANSWER) }).end(ANSWER);
  });
});

server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1', () => {
  const addr = server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof addr === 'object' && addr ? addr.port : null })}\n`);
});

const stop = () => server.close(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
