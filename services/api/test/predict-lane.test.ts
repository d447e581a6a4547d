/**
 * The predict lane holds its answers to the end of each event-loop turn (AnswerHold): on the
 * wire every request still gets its own answer, and requests pipelined on one connection get
 * theirs in order.
 */
import { connect } from 'node:net';
import { eventually, startStack, type Stack } from './helpers/harness';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
}, 60_000);
afterAll(async () => {
  await stack.close();
});

const ROW = { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 };

test('many requests at once: each answer carries its own request id and its own prediction', async () => {
  const rows = Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? ROW : { sepal_length: 6.7, sepal_width: 3.0, petal_length: 5.2, petal_width: 2.3 }));
  const answers = await Promise.all(rows.map((row, i) => stack.api.client.post('/predict', { json: row, token: null, headers: { 'x-request-id': `lane-${i}` } })));
  answers.forEach((a, i) => {
    expect(a.status).toBe(200);
    expect(a.headers.get('x-request-id')).toBe(`lane-${i}`);
    expect((a.body as { class_name: string }).class_name).toBe(i % 2 === 0 ? 'setosa' : 'virginica');
  });
});

test('requests pipelined on one connection are answered in order, a refusal among them included', async () => {
  const { port } = new URL(stack.api.client.baseUrl);
  const request = (id: string, body: string) => `POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Request-Id: ${id}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  const socket = connect(Number(port), '127.0.0.1');
  let received = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (received += chunk));
  // Three requests in one write: the middle one is refused (422), the others answered.
  socket.write(request('p-1', JSON.stringify(ROW)) + request('p-2', '{"sepal_length":"wide"}') + request('p-3', JSON.stringify(ROW)));
  try {
    // An answer's body has no line break after it: the next status line follows on its line.
    await eventually(() => (received.match(/HTTP\/1\.1 \d{3}/g) ?? []).length === 3 && /p-3[\s\S]*\}$/.test(received), 10_000, 'three answers');
  } finally {
    socket.destroy();
  }
  const statuses = [...received.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1]);
  const ids = [...received.matchAll(/^x-request-id: (\S+)/gim)].map((m) => m[1]);
  expect(statuses).toEqual(['200', '422', '200']);
  expect(ids).toEqual(['p-1', 'p-2', 'p-3']);
});
