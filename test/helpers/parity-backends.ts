// Two JSON backends that agree on everything but an order's total: the candidate adds the
// shipping twice (fast, 200, wrong). For the parity-as-evidence tests.
import { startBackend, type TestBackend } from './servers.js';

/** An order as legacy computes it; `wrongTotal` computes it as the buggy candidate does. */
export function order(url: string, wrongTotal: boolean) {
  const id = Number(/(\d+)/.exec(url)?.[1] ?? 1);
  const items = [{ sku: `sku-${id}`, price: 10 }, { sku: 'sku-x', price: 15 }];
  const shipping = 5;
  const total = items.reduce((a, i) => a + i.price, 0) + shipping * (wrongTotal ? 2 : 1);
  return { id, items, shipping, total };
}

/** A backend answering every request 200 with an order as JSON. */
export function orderBackend(wrongTotal: boolean): Promise<TestBackend> {
  return startBackend((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(order(req.url ?? '/', wrongTotal)));
  });
}
