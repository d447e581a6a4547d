/**
 * AnswerHold: the predict lane's answers of one event-loop turn are written together at its
 * end, in order; an answer never waits long for the others.
 */
import { performance } from 'node:perf_hooks';
import { AnswerHold } from '../src/pipeline/answer-hold';

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Work on the event loop for `ms` (what serving a long request does to the answers held). */
function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

test('the answers of a turn are written at its end, oldest first, each once', async () => {
  const written: number[] = [];
  const hold = new AnswerHold<number>((n) => written.push(n), 1000);
  hold.add(1);
  hold.add(2);
  hold.add(3);
  expect(written).toEqual([]);
  expect(hold.size).toBe(3);
  await nextTurn();
  expect(written).toEqual([1, 2, 3]);
  expect(hold.size).toBe(0);
  // The next turn's answers go out at the end of that turn.
  hold.add(4);
  await nextTurn();
  await nextTurn();
  expect(written).toEqual([1, 2, 3, 4]);
});

test('once the oldest held answer has waited past the bound, the next one writes the held ones first', async () => {
  const written: string[] = [];
  const hold = new AnswerHold<string>((s) => written.push(s), 1);
  hold.add('a');
  hold.add('b');
  busy(3);
  hold.add('c');
  // a and b went out at once; c waits for the end of the turn.
  expect(written).toEqual(['a', 'b']);
  await nextTurn();
  expect(written).toEqual(['a', 'b', 'c']);
});

test('flush writes what is held now (before long work), and the end of the turn writes nothing twice', async () => {
  const written: string[] = [];
  const hold = new AnswerHold<string>((s) => written.push(s));
  hold.flush();
  expect(written).toEqual([]);
  hold.add('x');
  hold.flush();
  expect(written).toEqual(['x']);
  hold.add('y');
  await nextTurn();
  expect(written).toEqual(['x', 'y']);
});
